{{/* The webhook TLS secret and where operators read it. */}}
{{- define "mc.webhookSecret" -}}{{ .Release.Name }}-webhook-tls{{- end }}
{{- define "mc.certDir" -}}/tmp/k8s-webhook-server/serving-certs{{- end }}

{{/* Labels every object carries. */}}
{{- define "mc.labels" -}}
app.kubernetes.io/part-of: mission-control
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* mc.controlPlane is "true" on control planes. */}}
{{- define "mc.controlPlane" -}}{{ eq .Values.mode "control-plane" }}{{- end }}

{{/*
mc.operator renders what every operator has: a ServiceAccount, its Deployment (non-root,
read-only root filesystem, probes on :8081, the webhook certificate mounted) and the webhook
Service. Arguments: the root context as .root, and name, image, args, env, webhooks (bool).
*/}}
{{- define "mc.operator" -}}
{{- $root := .root -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels: {{- include "mc.labels" $root | nindent 4 }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mc.labels" $root | nindent 4 }}
    app.kubernetes.io/name: {{ .name }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
      app.kubernetes.io/instance: {{ $root.Release.Name }}
  template:
    metadata:
      labels:
        {{- include "mc.labels" $root | nindent 8 }}
        app.kubernetes.io/name: {{ .name }}
      annotations:
        # Restart the operator when its serving certificate changes.
        mission-control/webhook-cert: {{ $root.Values.webhook.tlsCert | sha256sum | trunc 16 }}
    spec:
      serviceAccountName: {{ .name }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: {type: RuntimeDefault}
      terminationGracePeriodSeconds: 10
      containers:
      - name: manager
        image: {{ .image }}
        imagePullPolicy: {{ $root.Values.imagePullPolicy }}
        command: [/manager]
        args: {{- toYaml .args | nindent 8 }}
        env:
        {{- toYaml .env | nindent 8 }}
        ports:
        - {name: webhook, containerPort: 9443}
        - {name: probes, containerPort: 8081}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        livenessProbe:
          httpGet: {path: /healthz, port: 8081}
          initialDelaySeconds: 15
          periodSeconds: 20
        readinessProbe:
          httpGet: {path: /readyz, port: 8081}
          initialDelaySeconds: 5
          periodSeconds: 5
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: "1", memory: 512Mi}
        volumeMounts:
        - {name: webhook-cert, mountPath: {{ include "mc.certDir" $root }}, readOnly: true}
        - {name: tmp, mountPath: /tmp}
      volumes:
      - name: webhook-cert
        secret: {secretName: {{ include "mc.webhookSecret" $root }}}
      - name: tmp
        emptyDir: {}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}-webhook
  namespace: {{ $root.Release.Namespace }}
  labels: {{- include "mc.labels" $root | nindent 4 }}
spec:
  selector:
    app.kubernetes.io/name: {{ .name }}
    app.kubernetes.io/instance: {{ $root.Release.Name }}
  ports:
  - {name: webhook, port: 443, targetPort: 9443}
{{- end }}

{{/* mc.leaderElection grants an operator leases and events in its namespace. */}}
{{- define "mc.leaderElection" -}}
{{- $root := .root -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ .name }}-leader-election
  namespace: {{ $root.Release.Namespace }}
  labels: {{- include "mc.labels" $root | nindent 4 }}
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ .name }}-leader-election
  namespace: {{ $root.Release.Namespace }}
  labels: {{- include "mc.labels" $root | nindent 4 }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ .name }}-leader-election}
subjects:
- {kind: ServiceAccount, name: {{ .name }}, namespace: {{ $root.Release.Namespace }}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ $root.Release.Name }}-{{ .name }}
  labels: {{- include "mc.labels" $root | nindent 4 }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {{ $root.Release.Name }}-{{ .name }}}
subjects:
- {kind: ServiceAccount, name: {{ .name }}, namespace: {{ $root.Release.Namespace }}}
{{- end }}

{{/* mc.webhookClient is how the API server calls an operator's webhook. */}}
{{- define "mc.webhookClient" -}}
clientConfig:
  caBundle: {{ .root.Values.webhook.caBundle | b64enc }}
  service: {name: {{ .name }}-webhook, namespace: {{ .root.Release.Namespace }}, path: {{ .path }}, port: 443}
admissionReviewVersions: [v1]
sideEffects: None
failurePolicy: Fail
timeoutSeconds: 10
{{- end }}

{{/* mc.k8ssandraWatch is k8ssandra-operator's WATCH_NAMESPACE: every namespace on a data plane
(it holds no ClientConfigs); on a control plane the namespaces of its MissionControlClusters, from
the ConfigMap the mission-control-operator keeps, so that k8ssandra-operator never connects to the
registrations in the mission-control namespace (operators/missioncontrol/k8ssandrawatch.go). */}}
{{- define "mc.k8ssandraWatch" -}}
{{- if eq .Values.mode "control-plane" -}}
{name: WATCH_NAMESPACE, valueFrom: {configMapKeyRef: {name: k8ssandra-operator-watch, key: namespaces}}}
{{- else -}}
{name: WATCH_NAMESPACE, value: ""}
{{- end -}}
{{- end -}}
