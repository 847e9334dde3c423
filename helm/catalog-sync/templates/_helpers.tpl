{{/* Names, labels and the pieces every pod of the chart shares. */}}

{{- define "catalog-sync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "catalog-sync.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "catalog-sync.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "catalog-sync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "catalog-sync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "catalog-sync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "catalog-sync.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "catalog-sync.postgresql" -}}
{{- if eq .Values.database.type "postgresql" }}true{{ end }}
{{- end }}

{{/* The Secret every container reads its secrets from: the user's, or the chart's. */}}
{{- define "catalog-sync.secretName" -}}
{{- .Values.existingSecret | default (include "catalog-sync.fullname" .) }}
{{- end }}

{{/* Whether the chart writes a Secret at all (nothing secret given: none). */}}
{{- define "catalog-sync.ownSecret" -}}
{{- if not .Values.existingSecret }}
{{- $s := .Values.secrets }}
{{- if or (and (include "catalog-sync.postgresql" .) .Values.database.url) $s.apiTokens $s.githubWebhookSecrets $s.gitlabWebhookTokens $s.sourceTokens }}true{{ end }}
{{- end }}
{{- end }}

{{/* The data of the chart's Secret (base64), shared by the Secret and the migration hook's copy. */}}
{{- define "catalog-sync.secretData" -}}
{{- $s := .Values.secrets }}
{{- if and (include "catalog-sync.postgresql" .) .Values.database.url }}
database-url: {{ .Values.database.url | b64enc | quote }}
{{- end }}
{{- with $s.apiTokens }}
api-tokens: {{ join "," . | b64enc | quote }}
{{- end }}
{{- with $s.githubWebhookSecrets }}
github-webhook-secrets: {{ join "," . | b64enc | quote }}
{{- end }}
{{- with $s.gitlabWebhookTokens }}
gitlab-webhook-tokens: {{ join "," . | b64enc | quote }}
{{- end }}
{{- range $name, $value := $s.sourceTokens }}
{{ $name }}: {{ $value | b64enc | quote }}
{{- end }}
{{- end }}

{{/* The configuration file: the user's `config`, with the clone cache on the writable volume. */}}
{{- define "catalog-sync.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $sync := get $config "sync" | default dict }}
{{- if not (hasKey $sync "cache_dir") }}
{{- $_ := set $sync "cache_dir" "/var/cache/catalog-sync/repos" }}
{{- end }}
{{- $_ := set $config "sync" $sync }}
{{- toYaml $config }}
{{- end }}

{{/*
The environment of every container: where the configuration is, the database URL and the secrets the
configuration reads from the environment. `secretName` is the Secret to read (the migration hook reads
its own copy).
*/}}
{{- define "catalog-sync.env" -}}
{{- $root := .root }}
{{- $secret := .secretName }}
{{- $s := $root.Values.secrets }}
{{- $own := not $root.Values.existingSecret }}
- name: CATALOG_SYNC_CONFIG
  value: /etc/catalog-sync/catalog-sync.yaml
- name: HOME
  value: /tmp
{{- if include "catalog-sync.postgresql" $root }}
- name: CATALOG_SYNC_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: database-url}
{{- else }}
- name: CATALOG_SYNC_DATABASE_URL
  value: {{ printf "sqlite:///%s" $root.Values.database.sqlite.path | quote }}
{{- end }}
{{- if or (not $own) $s.apiTokens }}
- name: CATALOG_SYNC_API_TOKENS
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: api-tokens, optional: {{ not $own }}}
{{- end }}
{{- if or (not $own) $s.githubWebhookSecrets }}
- name: CATALOG_SYNC_GITHUB_WEBHOOK_SECRETS
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: github-webhook-secrets, optional: {{ not $own }}}
{{- end }}
{{- if or (not $own) $s.gitlabWebhookTokens }}
- name: CATALOG_SYNC_GITLAB_WEBHOOK_TOKENS
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: gitlab-webhook-tokens, optional: {{ not $own }}}
{{- end }}
{{- range $name, $_ := $s.sourceTokens }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: {{ $name }}}
{{- end }}
{{- range $root.Values.extraSecretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef: {name: {{ .secretName | quote }}, key: {{ .key | quote }}}
{{- end }}
{{- with $root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "catalog-sync.podSecurity" -}}
{{- if .Values.serviceAccount.name }}
serviceAccountName: {{ .Values.serviceAccount.name }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "catalog-sync.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
/tmp, the configuration and the user's extraVolumeMounts (a CA bundle a source's ca_file names, say),
mounted in every container that runs catalog-sync, so a file the configuration points at is there
for the migration Job, the API and the workers alike.
*/}}
{{- define "catalog-sync.commonMounts" -}}
- name: tmp
  mountPath: /tmp
- name: config
  mountPath: /etc/catalog-sync
  readOnly: true
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The volumes of commonMounts: `configMap` is the configuration's (the migration hook reads its copy). */}}
{{- define "catalog-sync.commonVolumes" -}}
- name: tmp
  emptyDir: {sizeLimit: {{ .root.Values.tmpSizeLimit }}}
- name: config
  configMap:
    name: {{ .configMap }}
{{- with .root.Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "catalog-sync.checksum" -}}
checksum/config: {{ include "catalog-sync.config" . | sha256sum }}
checksum/secret: {{ printf "%s%s" (include "catalog-sync.secretData" .) .Values.existingSecret | sha256sum }}
{{- end }}
