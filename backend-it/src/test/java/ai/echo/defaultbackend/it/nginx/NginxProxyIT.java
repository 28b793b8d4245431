package ai.echo.defaultbackend.it.nginx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.echo.defaultbackend.it.ServerProcess;
import ai.echo.defaultbackend.it.errorpages.Raw;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real proxy in front: Debian's nginx, configured the way ingress-nginx's template configures a server
 * with {@code custom-http-errors: 404,503} (its {@code @custom_<upstream>_<code>} locations: internal,
 * {@code proxy_intercept_errors off}, the {@code X-*} headers, {@code rewrite (.*) / break}) and its
 * catch-all server, in front of the packaged server and of a small upstream that answers 503 and 404.
 * nginx runs as a child process with its configuration, pid and logs in a temporary directory, listening on
 * a free loopback port.
 */
class NginxProxyIT {

    private static final Path NGINX = Path.of(System.getProperty("nginx.binary", "/usr/sbin/nginx"));
    private static final Duration START_DEADLINE = Duration.ofSeconds(20);

    @TempDir
    static Path tmp;

    private static ServerProcess backend;
    private static HttpServer upstream;
    private static Process nginx;
    private static int nginxPort;

    @BeforeAll
    static void start() throws Exception {
        if (!Files.isExecutable(NGINX)) {
            String why = "NginxProxyIT skipped: no nginx at " + NGINX + " (apt-get install -y nginx-light)";
            System.err.println(why);
            Assumptions.abort(why);
        }
        Path pages = Files.createDirectory(tmp.resolve("www"));
        Files.writeString(pages.resolve("404.html"), "<h1>{{code}} {{reason}}</h1><p>{{original_uri}}</p>");
        Files.writeString(pages.resolve("5xx.json"), "{\"code\":{{code}},\"uri\":\"{{original_uri}}\","
                + "\"ns\":\"{{namespace}}\",\"ingress\":\"{{ingress}}\",\"service\":\"{{service}}\","
                + "\"id\":\"{{request_id}}\"}");
        backend = ServerProcess.start(List.of(), Map.of("ERROR_FILES_PATH", pages.toString()));

        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            int status = path.startsWith("/down") ? 503 : path.startsWith("/missing") ? 404 : 200;
            byte[] body = ("upstream says " + status).getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(status, head ? -1 : body.length);
            if (!head) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        upstream.start();

        startNginx();
    }

    private static void startNginx() throws Exception {
        for (int attempt = 1; ; attempt++) {
            nginxPort = freePort();
            Path conf = tmp.resolve("nginx.conf");
            Files.writeString(conf, config(nginxPort, backend.port(), upstream.getAddress().getPort()));
            nginx = new ProcessBuilder(NGINX.toString(), "-p", tmp.toString(), "-c", conf.toString(),
                    "-e", tmp.resolve("error.log").toString(), "-g", "daemon off;")
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("nginx.out").toFile()).start();
            if (awaitListening(nginxPort)) {
                return;
            }
            nginx.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            if (attempt == 3) {
                throw new AssertionError("nginx did not start: " + Files.readString(tmp.resolve("nginx.out"))
                        + readIfExists(tmp.resolve("error.log")));
            }
        }
    }

    private static String readIfExists(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "";
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** True once nginx accepts connections on the port; false if it exits first or the deadline passes. */
    private static boolean awaitListening(int port) throws InterruptedException {
        long deadline = System.nanoTime() + START_DEADLINE.toNanos();
        while (System.nanoTime() - deadline < 0 && nginx.isAlive()) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        return false;
    }

    /**
     * The parts of ingress-nginx's rendered nginx.conf that matter here. Only loopback, temporary paths and
     * one worker differ from what the controller writes.
     */
    private static String config(int port, int backendPort, int upstreamPort) {
        String customErrors = "";
        for (int code : new int[] {404, 503}) {
            customErrors += """
                        location @custom_upstream-default-backend_%1$d {
                            internal;
                            proxy_intercept_errors off;
                            proxy_set_header       X-Code             %1$d;
                            proxy_set_header       X-Format           $http_accept;
                            proxy_set_header       X-Original-URI     $request_uri;
                            proxy_set_header       X-Namespace        $namespace;
                            proxy_set_header       X-Ingress-Name     $ingress_name;
                            proxy_set_header       X-Service-Name     $service_name;
                            proxy_set_header       X-Service-Port     $service_port;
                            proxy_set_header       X-Request-ID       $req_id;
                            proxy_set_header       Host               $best_http_host;
                            proxy_http_version     1.1;
                            proxy_set_header       Connection         "";
                            rewrite                (.*) / break;
                            proxy_pass             http://upstream-default-backend;
                        }
                    """.formatted(code);
        }
        return """
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log info;
                events { worker_connections 256; }
                http {
                    access_log %1$s/access.log;
                    client_body_temp_path %1$s/client-body;
                    proxy_temp_path %1$s/proxy-temp;
                    fastcgi_temp_path %1$s/fastcgi-temp;
                    uwsgi_temp_path %1$s/uwsgi-temp;
                    scgi_temp_path %1$s/scgi-temp;
                    map $http_x_request_id $req_id {
                        default $http_x_request_id;
                        ""      $request_id;
                    }
                    map $http_host $best_http_host {
                        default $http_host;
                        ''      $host;
                    }
                    # custom-http-errors: 404,503
                    proxy_intercept_errors on;
                    upstream upstream-default-backend {
                        server 127.0.0.1:%3$d;
                        keepalive 32;
                    }
                    upstream prod-cart-8080 {
                        server 127.0.0.1:%4$d;
                        keepalive 32;
                    }
                    # The catch-all server: unmatched hosts and paths reach the default backend as they are.
                    server {
                        listen 127.0.0.1:%2$d default_server;
                        server_name _;
                        location / {
                            proxy_http_version 1.1;
                            proxy_set_header Connection "";
                            proxy_set_header Host $best_http_host;
                            proxy_set_header X-Request-ID $req_id;
                            proxy_set_header X-Forwarded-For $remote_addr;
                            proxy_pass http://upstream-default-backend;
                        }
                    }
                    # An Ingress for shop.example, namespace prod, Service cart:8080.
                    server {
                        listen 127.0.0.1:%2$d;
                        server_name shop.example;
                %5$s
                        location / {
                            set $namespace      "prod";
                            set $ingress_name   "shop";
                            set $service_name   "cart";
                            set $service_port   "8080";
                            error_page 404 = @custom_upstream-default-backend_404;
                            error_page 503 = @custom_upstream-default-backend_503;
                            proxy_http_version 1.1;
                            proxy_set_header Connection "";
                            proxy_set_header Host $best_http_host;
                            proxy_set_header X-Request-ID $req_id;
                            proxy_pass http://prod-cart-8080;
                        }
                    }
                }
                """.formatted(tmp, port, backendPort, upstreamPort, customErrors);
    }

    @AfterAll
    static void stop() throws Exception {
        if (nginx != null) {
            nginx.destroy(); // SIGTERM: fast shutdown
            if (!nginx.waitFor(10, TimeUnit.SECONDS)) {
                nginx.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (upstream != null) {
            upstream.stop(0);
        }
        if (backend != null) {
            backend.close();
        }
    }

    /** A response through nginx: status, headers (lower-case names), body. */
    private record Response(int status, Map<String, String> headers, String body) {
    }

    private static Response request(String method, String host, String path, String... headers) throws IOException {
        StringBuilder request = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ")
                .append(host).append("\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            request.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        String raw = Raw.exchange(nginxPort, request.append("Connection: close\r\n\r\n").toString());
        int end = raw.indexOf("\r\n\r\n");
        assertThat(end).as("a complete response: %s", raw).isPositive();
        String[] lines = raw.substring(0, end).split("\r\n");
        Map<String, String> fields = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            fields.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        String body = raw.substring(end + 4);
        if ("chunked".equals(fields.get("transfer-encoding"))) {
            body = dechunk(body);
        }
        return new Response(Integer.parseInt(lines[0].split(" ")[1]), fields,
                new String(body.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }

    private static String dechunk(String chunked) {
        StringBuilder out = new StringBuilder();
        int pos = 0;
        while (true) {
            int lineEnd = chunked.indexOf("\r\n", pos);
            int size = Integer.parseInt(chunked.substring(pos, lineEnd).split(";")[0].trim(), 16);
            if (size == 0) {
                return out.toString();
            }
            out.append(chunked, lineEnd + 2, lineEnd + 2 + size);
            pos = lineEnd + 2 + size + 2;
        }
    }

    @Test
    void anUpstream503BecomesTheNegotiatedErrorPage() throws IOException {
        Response response = request("GET", "shop.example", "/down/cart?item=%3C1%3E&name=a'b",
                "Accept", "application/json",
                "X-Request-ID", "req-42");
        assertThat(response.status()).as("%s", response).isEqualTo(503);
        assertThat(response.headers()).containsEntry("content-type", "application/json; charset=utf-8")
                .as("a cache in front of nginx keys the page by the client's Accept").containsEntry("vary", "Accept");
        assertThat(response.body()).isEqualTo("{\"code\":503,\"uri\":\"/down/cart?item=%3C1%3E\\u0026name=a'b\","
                + "\"ns\":\"prod\",\"ingress\":\"shop\",\"service\":\"cart\",\"id\":\"req-42\"}");
    }

    @Test
    void anUpstream404BecomesTheHtmlPageForABrowser() throws IOException {
        Response response = request("GET", "shop.example", "/missing/page", "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8");
        assertThat(response.status()).as("%s", response).isEqualTo(404);
        assertThat(response.headers()).containsEntry("content-type", "text/html; charset=utf-8");
        assertThat(response.body()).isEqualTo("<h1>404 Not Found</h1><p>/missing/page</p>");
    }

    @Test
    void withoutAcceptNginxSendsNoXFormatAndTheDefaultFormatIsServed() throws IOException {
        Response response = request("POST", "shop.example", "/down");
        assertThat(response.status()).as("%s", response).isEqualTo(503);
        assertThat(response.headers()).containsEntry("content-type", "text/html; charset=utf-8");
        assertThat(response.body()).startsWith("<!DOCTYPE html>").contains("<title>503 Service Unavailable</title>");
    }

    @Test
    void headThroughTheProxyGetsNoBody() throws IOException {
        Response response = request("HEAD", "shop.example", "/down", "Accept", "text/plain");
        assertThat(response.status()).as("%s", response).isEqualTo(503);
        assertThat(response.headers()).containsEntry("content-type", "text/plain; charset=utf-8");
        assertThat(response.body()).isEmpty();
    }

    @Test
    void healthyAnswersPassUntouched() throws IOException {
        Response response = request("GET", "shop.example", "/ok");
        assertThat(response.status()).as("%s", response).isEqualTo(200);
        assertThat(response.body()).isEqualTo("upstream says 200");
    }

    @Test
    void unmatchedHostsGetThe15Answer() throws IOException {
        for (String path : List.of("/", "/some/path?q=1", "/metrics")) {
            Response response = request("GET", "unknown.example", path, "Accept", "application/json");
            assertThat(response.status()).as("%s", response).isEqualTo(404);
            assertThat(response.headers()).containsEntry("content-type", "text/plain; charset=utf-8")
                    .containsEntry("content-length", "21");
            assertThat(response.body()).isEqualTo("default backend - 404");
        }
        Response health = request("GET", "unknown.example", "/healthz");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("ok");
    }
}
