{{/*
The `helm test` pod: the image's own healthcheck subcommand GETs /healthz through the Service, so the hook needs
no shell, no curl and no other image, and runs under the same hardened securityContext as the backend. A named
template so the chart tests can render it: Helm as a library leaves hooks out of the manifest it returns.
*/}}
{{- define "defaultbackend.testPod" -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "defaultbackend.fullname" . }}-test
  namespace: {{ .Release.Namespace }}
  # Not the selector labels: the Service must never send traffic to this pod. commonLabels, as on every object.
  {{- $own := merge (dict "helm.sh/chart" (include "defaultbackend.chart" .) "app.kubernetes.io/managed-by" .Release.Service) (include "defaultbackend.testSelectorLabels" . | fromYaml) }}
  labels:
    {{- toYaml (merge (dict) $own (.Values.tests.podLabels | default dict) (.Values.commonLabels | default dict)) | nindent 4 }}
  {{- $hook := dict "helm.sh/hook" "test" "helm.sh/hook-delete-policy" "before-hook-creation,hook-succeeded" }}
  annotations:
    {{- toYaml (merge (dict) $hook (.Values.tests.podAnnotations | default dict)) | nindent 4 }}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- with (include "defaultbackend.imagePullSecrets" .) }}{{ . | nindent 2 }}{{- end }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: healthcheck
      image: {{ include "defaultbackend.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - healthcheck
        - --host
        - {{ include "defaultbackend.fullname" . }}
        - --port
        - {{ .Values.service.port | quote }}
      {{- with (include "defaultbackend.containerSecurityContext" .) }}{{ . | nindent 6 }}{{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
