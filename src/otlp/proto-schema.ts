/**
 * The OTLP protocol buffers (opentelemetry-proto v1: common, resource, trace, logs, metrics and
 * the collector services) and google.rpc.Status, in protobuf text. Loaded once with protobufjs;
 * fully qualified type names so the files can be parsed into one root in any order.
 */
export const OTLP_PROTO_FILES: readonly string[] = [
  `syntax = "proto3";
package opentelemetry.proto.common.v1;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    .opentelemetry.proto.common.v1.ArrayValue array_value = 5;
    .opentelemetry.proto.common.v1.KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated .opentelemetry.proto.common.v1.AnyValue values = 1; }
message KeyValueList { repeated .opentelemetry.proto.common.v1.KeyValue values = 1; }
message KeyValue { string key = 1; .opentelemetry.proto.common.v1.AnyValue value = 2; }
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated .opentelemetry.proto.common.v1.KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message EntityRef {
  string schema_url = 1;
  string type = 2;
  repeated string id_keys = 3;
  repeated string description_keys = 4;
}`,
  `syntax = "proto3";
package opentelemetry.proto.resource.v1;
message Resource {
  repeated .opentelemetry.proto.common.v1.KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
  repeated .opentelemetry.proto.common.v1.EntityRef entity_refs = 3;
}`,
  `syntax = "proto3";
package opentelemetry.proto.trace.v1;
message TracesData { repeated .opentelemetry.proto.trace.v1.ResourceSpans resource_spans = 1; }
message ResourceSpans {
  reserved 1000;
  .opentelemetry.proto.resource.v1.Resource resource = 1;
  repeated .opentelemetry.proto.trace.v1.ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ScopeSpans {
  .opentelemetry.proto.common.v1.InstrumentationScope scope = 1;
  repeated .opentelemetry.proto.trace.v1.Span spans = 2;
  string schema_url = 3;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }
  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated .opentelemetry.proto.common.v1.KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated .opentelemetry.proto.common.v1.KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated .opentelemetry.proto.common.v1.KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  .opentelemetry.proto.trace.v1.Status status = 15;
}
message Status {
  reserved 1;
  string message = 2;
  enum StatusCode {
    STATUS_CODE_UNSET = 0;
    STATUS_CODE_OK = 1;
    STATUS_CODE_ERROR = 2;
  }
  StatusCode code = 3;
}`,
  `syntax = "proto3";
package opentelemetry.proto.logs.v1;
message LogsData { repeated .opentelemetry.proto.logs.v1.ResourceLogs resource_logs = 1; }
message ResourceLogs {
  reserved 1000;
  .opentelemetry.proto.resource.v1.Resource resource = 1;
  repeated .opentelemetry.proto.logs.v1.ScopeLogs scope_logs = 2;
  string schema_url = 3;
}
message ScopeLogs {
  .opentelemetry.proto.common.v1.InstrumentationScope scope = 1;
  repeated .opentelemetry.proto.logs.v1.LogRecord log_records = 2;
  string schema_url = 3;
}
enum SeverityNumber {
  SEVERITY_NUMBER_UNSPECIFIED = 0;
  SEVERITY_NUMBER_TRACE = 1; SEVERITY_NUMBER_TRACE2 = 2; SEVERITY_NUMBER_TRACE3 = 3; SEVERITY_NUMBER_TRACE4 = 4;
  SEVERITY_NUMBER_DEBUG = 5; SEVERITY_NUMBER_DEBUG2 = 6; SEVERITY_NUMBER_DEBUG3 = 7; SEVERITY_NUMBER_DEBUG4 = 8;
  SEVERITY_NUMBER_INFO = 9; SEVERITY_NUMBER_INFO2 = 10; SEVERITY_NUMBER_INFO3 = 11; SEVERITY_NUMBER_INFO4 = 12;
  SEVERITY_NUMBER_WARN = 13; SEVERITY_NUMBER_WARN2 = 14; SEVERITY_NUMBER_WARN3 = 15; SEVERITY_NUMBER_WARN4 = 16;
  SEVERITY_NUMBER_ERROR = 17; SEVERITY_NUMBER_ERROR2 = 18; SEVERITY_NUMBER_ERROR3 = 19; SEVERITY_NUMBER_ERROR4 = 20;
  SEVERITY_NUMBER_FATAL = 21; SEVERITY_NUMBER_FATAL2 = 22; SEVERITY_NUMBER_FATAL3 = 23; SEVERITY_NUMBER_FATAL4 = 24;
}
message LogRecord {
  reserved 4;
  fixed64 time_unix_nano = 1;
  fixed64 observed_time_unix_nano = 11;
  .opentelemetry.proto.logs.v1.SeverityNumber severity_number = 2;
  string severity_text = 3;
  .opentelemetry.proto.common.v1.AnyValue body = 5;
  repeated .opentelemetry.proto.common.v1.KeyValue attributes = 6;
  uint32 dropped_attributes_count = 7;
  fixed32 flags = 8;
  bytes trace_id = 9;
  bytes span_id = 10;
  string event_name = 12;
}`,
  `syntax = "proto3";
package opentelemetry.proto.metrics.v1;
message MetricsData { repeated .opentelemetry.proto.metrics.v1.ResourceMetrics resource_metrics = 1; }
message ResourceMetrics {
  reserved 1000;
  .opentelemetry.proto.resource.v1.Resource resource = 1;
  repeated .opentelemetry.proto.metrics.v1.ScopeMetrics scope_metrics = 2;
  string schema_url = 3;
}
message ScopeMetrics {
  .opentelemetry.proto.common.v1.InstrumentationScope scope = 1;
  repeated .opentelemetry.proto.metrics.v1.Metric metrics = 2;
  string schema_url = 3;
}
message Metric {
  reserved 4, 6, 8;
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    .opentelemetry.proto.metrics.v1.Gauge gauge = 5;
    .opentelemetry.proto.metrics.v1.Sum sum = 7;
    .opentelemetry.proto.metrics.v1.Histogram histogram = 9;
    .opentelemetry.proto.metrics.v1.ExponentialHistogram exponential_histogram = 10;
    .opentelemetry.proto.metrics.v1.Summary summary = 11;
  }
  repeated .opentelemetry.proto.common.v1.KeyValue metadata = 12;
}
message Gauge { repeated .opentelemetry.proto.metrics.v1.NumberDataPoint data_points = 1; }
message Sum {
  repeated .opentelemetry.proto.metrics.v1.NumberDataPoint data_points = 1;
  .opentelemetry.proto.metrics.v1.AggregationTemporality aggregation_temporality = 2;
  bool is_monotonic = 3;
}
message Histogram {
  repeated .opentelemetry.proto.metrics.v1.HistogramDataPoint data_points = 1;
  .opentelemetry.proto.metrics.v1.AggregationTemporality aggregation_temporality = 2;
}
message ExponentialHistogram {
  repeated .opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint data_points = 1;
  .opentelemetry.proto.metrics.v1.AggregationTemporality aggregation_temporality = 2;
}
message Summary { repeated .opentelemetry.proto.metrics.v1.SummaryDataPoint data_points = 1; }
enum AggregationTemporality {
  AGGREGATION_TEMPORALITY_UNSPECIFIED = 0;
  AGGREGATION_TEMPORALITY_DELTA = 1;
  AGGREGATION_TEMPORALITY_CUMULATIVE = 2;
}
message NumberDataPoint {
  reserved 1;
  repeated .opentelemetry.proto.common.v1.KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value {
    double as_double = 4;
    sfixed64 as_int = 6;
  }
  repeated .opentelemetry.proto.metrics.v1.Exemplar exemplars = 5;
  uint32 flags = 8;
}
message HistogramDataPoint {
  reserved 1;
  repeated .opentelemetry.proto.common.v1.KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  repeated .opentelemetry.proto.metrics.v1.Exemplar exemplars = 8;
  uint32 flags = 10;
  optional double min = 11;
  optional double max = 12;
}
message ExponentialHistogramDataPoint {
  repeated .opentelemetry.proto.common.v1.KeyValue attributes = 1;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  sint32 scale = 6;
  fixed64 zero_count = 7;
  message Buckets {
    sint32 offset = 1;
    repeated uint64 bucket_counts = 2;
  }
  Buckets positive = 8;
  Buckets negative = 9;
  uint32 flags = 10;
  repeated .opentelemetry.proto.metrics.v1.Exemplar exemplars = 11;
  optional double min = 12;
  optional double max = 13;
  double zero_threshold = 14;
}
message SummaryDataPoint {
  reserved 1;
  repeated .opentelemetry.proto.common.v1.KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  double sum = 5;
  message ValueAtQuantile {
    double quantile = 1;
    double value = 2;
  }
  repeated ValueAtQuantile quantile_values = 6;
  uint32 flags = 8;
}
message Exemplar {
  reserved 1;
  repeated .opentelemetry.proto.common.v1.KeyValue filtered_attributes = 7;
  fixed64 time_unix_nano = 2;
  oneof value {
    double as_double = 3;
    sfixed64 as_int = 6;
  }
  bytes span_id = 4;
  bytes trace_id = 5;
}`,
  `syntax = "proto3";
package opentelemetry.proto.collector.trace.v1;
service TraceService {
  rpc Export(.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest) returns (.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse) {}
}
message ExportTraceServiceRequest { repeated .opentelemetry.proto.trace.v1.ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { .opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }`,
  `syntax = "proto3";
package opentelemetry.proto.collector.logs.v1;
service LogsService {
  rpc Export(.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest) returns (.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse) {}
}
message ExportLogsServiceRequest { repeated .opentelemetry.proto.logs.v1.ResourceLogs resource_logs = 1; }
message ExportLogsServiceResponse { .opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess partial_success = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }`,
  `syntax = "proto3";
package opentelemetry.proto.collector.metrics.v1;
service MetricsService {
  rpc Export(.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest) returns (.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse) {}
}
message ExportMetricsServiceRequest { repeated .opentelemetry.proto.metrics.v1.ResourceMetrics resource_metrics = 1; }
message ExportMetricsServiceResponse { .opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }`,
  // The error body of OTLP/HTTP 4xx/5xx responses and the gRPC status details (RetryInfo).
  `syntax = "proto3";
package google.protobuf;
message Any { string type_url = 1; bytes value = 2; }
message Duration { int64 seconds = 1; int32 nanos = 2; }`,
  `syntax = "proto3";
package google.rpc;
message Status { int32 code = 1; string message = 2; repeated .google.protobuf.Any details = 3; }
message RetryInfo { .google.protobuf.Duration retry_delay = 1; }`,
];
