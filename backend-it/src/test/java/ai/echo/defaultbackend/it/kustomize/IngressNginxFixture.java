package ai.echo.defaultbackend.it.kustomize;

import ai.echo.defaultbackend.it.chart.HelmChart;
import ai.echo.defaultbackend.it.chart.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ingress-nginx overlay pulls ingress-nginx's static manifests from the network, which tests do not have. A
 * copy of the {@code kustomize/} tree gets, in place of that URL, the controller Deployment as those manifests
 * declare it (name, namespace, container, its leading args and its environment, where POD_NAMESPACE comes from
 * the downward API); everything else of the overlay is unchanged.
 */
final class IngressNginxFixture {

    private static final Pattern STATIC_MANIFESTS = Pattern.compile(
            "(?m)^  - https://raw\\.githubusercontent\\.com/kubernetes/ingress-nginx/controller-v[0-9.]+/deploy/static/"
                    + "provider/[a-z]+/deploy\\.yaml$");

    private static final String CONTROLLER = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: ingress-nginx-controller
              namespace: ingress-nginx
              labels:
                app.kubernetes.io/name: ingress-nginx
                app.kubernetes.io/component: controller
            spec:
              selector:
                matchLabels:
                  app.kubernetes.io/name: ingress-nginx
                  app.kubernetes.io/component: controller
              template:
                metadata:
                  labels:
                    app.kubernetes.io/name: ingress-nginx
                    app.kubernetes.io/component: controller
                spec:
                  serviceAccountName: ingress-nginx
                  containers:
                    - name: controller
                      image: registry.k8s.io/ingress-nginx/controller:v1.13.0
                      args:
                        - /nginx-ingress-controller
                        - --publish-service=$(POD_NAMESPACE)/ingress-nginx-controller
                        - --election-id=ingress-nginx-leader
                        - --controller-class=k8s.io/ingress-nginx
                        - --ingress-class=nginx
                        - --configmap=$(POD_NAMESPACE)/ingress-nginx-controller
                      env:
                        - name: POD_NAME
                          valueFrom:
                            fieldRef:
                              fieldPath: metadata.name
                        - name: POD_NAMESPACE
                          valueFrom:
                            fieldRef:
                              fieldPath: metadata.namespace
                        - name: LD_PRELOAD
                          value: /usr/local/lib/libmimalloc.so
            """;

    private IngressNginxFixture() {
    }

    static Path overlayWithLocalController() throws IOException {
        Path copy = ProjectPaths.root().resolve("backend-it/target/kustomize-it/ingress-nginx-offline");
        if (Files.exists(copy)) {
            try (var paths = Files.walk(copy)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        HelmChart.copyTree(ProjectPaths.kustomize(), copy);
        Path overlay = copy.resolve("overlays/ingress-nginx");
        String kustomization = Files.readString(overlay.resolve("kustomization.yaml"));
        Matcher url = STATIC_MANIFESTS.matcher(kustomization);
        if (!url.find()) {
            throw new AssertionError("kustomize/overlays/ingress-nginx/kustomization.yaml no longer lists"
                    + " ingress-nginx's static deploy.yaml; update " + IngressNginxFixture.class.getSimpleName());
        }
        System.out.println("KustomizeIT: building the ingress-nginx overlay with a local controller Deployment in"
                + " place of " + url.group().trim().substring(2) + " (no network in tests)");
        Files.writeString(overlay.resolve("kustomization.yaml"), url.replaceFirst("  - ingress-nginx-controller.yaml"));
        Files.writeString(overlay.resolve("ingress-nginx-controller.yaml"), CONTROLLER);
        return overlay;
    }
}
