/** The node prefix: the whole API also under /n/<nodeName>/, and 421 for another node's prefix. */
export { matchNodePrefix, misdirectedReason, originForm } from './node-prefix';
export { nodePrefixMiddleware } from './node-prefix.middleware';
