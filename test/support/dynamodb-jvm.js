// Every DynamoDB Local a test starts (in-process or from a `dsr` child process) lives for
// seconds: a JVM that compiles with C1 only and collects on one thread starts and warms up
// about twice as fast on a 2-core runner (as test/connectors/dynamodb-fixtures.ts does).
// DynamoDB Local's behaviour is the same. Set DSR_DYNAMODB_JAVA_OPTS to override (' ' = none).
process.env.DSR_DYNAMODB_JAVA_OPTS = process.env.DSR_DYNAMODB_JAVA_OPTS || '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';
