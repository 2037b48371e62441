/** The operator dashboard: its page, assets and the state labels it shows. */
export { DashboardModule } from './dashboard.module';
