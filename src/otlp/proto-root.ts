/** The protobufjs root holding the OTLP types (proto-schema.ts), parsed and resolved once. */
import protobuf from 'protobufjs';
import { OTLP_PROTO_FILES } from './proto-schema.js';

export const otlpRoot = new protobuf.Root();
for (const file of OTLP_PROTO_FILES) protobuf.parse(file, otlpRoot, { keepCase: false });
otlpRoot.resolveAll();
