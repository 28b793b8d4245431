{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "defaultbackend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name of every object: <release>-<chart>, or the release name alone when it already contains the chart
name, so that `helm install kubernetes-ingress-defaultbackend .` does not repeat itself.
*/}}
{{- define "defaultbackend.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "defaultbackend.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that never change for a release: the Deployment's selector must stay immutable. */}}
{{- /* Quoted: a release named 123 or on is a number or a boolean to YAML, and a label value is a string. */}}
{{- define "defaultbackend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "defaultbackend.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: default-backend
{{- end -}}

{{/* The `helm test` pod's labels that the NetworkPolicy admits it by; never the backend's selector labels. */}}
{{- define "defaultbackend.testSelectorLabels" -}}
app.kubernetes.io/name: {{ include "defaultbackend.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: test
{{- end -}}

{{- define "defaultbackend.ownLabels" -}}
helm.sh/chart: {{ include "defaultbackend.chart" . | quote }}
{{ include "defaultbackend.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end -}}

{{/* An object's labels, with commonLabels: see labelsWith. */}}
{{- define "defaultbackend.labels" -}}
{{- include "defaultbackend.labelsWith" (list . dict dict) -}}
{{- end -}}

{{/*
labelsWith (list $ chart user): one map, so no key comes twice (Helm would keep the last silently; kubectl and
Kustomize refuse the object). Precedence: `chart`'s labels (what this object must carry, as the metrics
Service's part-of) and the chart's own, whose selector labels must stay; then `user`'s (podLabels,
service.labels...); then commonLabels.
*/}}
{{- define "defaultbackend.labelsWith" -}}
{{- $root := index . 0 -}}
{{- $own := include "defaultbackend.ownLabels" $root | fromYaml -}}
{{- toYaml (merge (dict) (index . 1) $own (index . 2 | default dict) ($root.Values.commonLabels | default dict)) -}}
{{- end -}}

{{- define "defaultbackend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "defaultbackend.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* registry/repository:tag@digest; global.imageRegistry wins so an umbrella chart can redirect every image. */}}
{{- define "defaultbackend.image" -}}
{{- $registry := .Values.global.imageRegistry | default .Values.image.registry -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- if $registry -}}{{ $registry }}/{{- end -}}
{{- .Values.image.repository -}}
{{- if $tag -}}:{{ $tag }}{{- end -}}
{{- if .Values.image.digest -}}@{{ .Values.image.digest }}{{- end -}}
{{- end -}}

{{/* global.imagePullSecrets then imagePullSecrets, each a name or {name: ...}, without duplicates. */}}
{{- define "defaultbackend.imagePullSecrets" -}}
{{- $names := list -}}
{{- range (concat .Values.global.imagePullSecrets .Values.imagePullSecrets) -}}
{{- $name := . -}}
{{- if kindIs "map" . -}}{{- $name = get . "name" -}}{{- end -}}
{{- if and $name (not (has $name $names)) -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- if $names }}
imagePullSecrets:
{{- range $names }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* More than one pod may run: the PDB and the default topology spread only make sense then. */}}
{{- define "defaultbackend.multiplePods" -}}
{{- if .Values.autoscaling.enabled -}}
{{- if gt (int .Values.autoscaling.maxReplicas) 1 -}}true{{- end -}}
{{- else if gt (int .Values.replicaCount) 1 -}}true{{- end -}}
{{- end -}}

{{/*
At least two pods always run: only then may a PodDisruptionBudget exist, since with one pod and
minAvailable 1 it would block every node drain.
*/}}
{{- define "defaultbackend.pdbApplies" -}}
{{- if .Values.autoscaling.enabled -}}
{{- if gt (int .Values.autoscaling.minReplicas) 1 -}}true{{- end -}}
{{- else if gt (int .Values.replicaCount) 1 -}}true{{- end -}}
{{- end -}}

{{- define "defaultbackend.errorPagesConfigMap" -}}
{{- .Values.customErrorPages.existingConfigMap | default (printf "%s-error-pages" (include "defaultbackend.fullname" .)) -}}
{{- end -}}

{{/* The hardened container spec, shared by the Deployment and the test hook so both run as the image must. */}}
{{- define "defaultbackend.containerSecurityContext" -}}
{{- with .Values.containerSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
