#!/bin/sh
# Prints the per-request cost of the 1.5 path without and with metrics (and with the access log), measured
# side by side in one run. Usage: backend-server/src/test/bench/metrics-overhead.sh [rounds] [warm-up rounds]
set -eu
cd "$(dirname "$0")/../../../.."
./mvnw -B -q -pl backend-server test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test
cd backend-server
exec java -Dio.netty.leakDetection.level=disabled -Xms256m -Xmx256m \
    -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" \
    ai.echo.defaultbackend.MetricsOverheadBenchmark "$@"
