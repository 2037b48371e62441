/** Start-up: loading and checking the configuration, the state folder, the instance claim and advice. */
export { AppConfigModule } from './app-config.module';
export { claimInstance } from './claim-instance';
export { loadAppConfig, loadEnvFile, packageRoot } from './load-app-config';
export { logSettings, startupAdvice } from './startup-advice';
