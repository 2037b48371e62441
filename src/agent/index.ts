/** HAProxy's agent check on AGENT_CHECK_PORT: this node's weight, drain and readiness for the balancer. */
export { AgentCheckModule } from './agent-check.module';
