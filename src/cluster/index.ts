/** The fleet view: this node's entry, its peers' and their spawns, for GET /cluster. */
export { ClusterModule } from './cluster.module';
