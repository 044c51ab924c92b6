// Package api serves the Mission Control API (/api/v1) and the web UI on the control plane. It is
// a thin layer over Kubernetes: every request is made to the Kubernetes API with the signed-in
// user's own bearer token, so Kubernetes authenticates the user and its RBAC decides what they may
// do; the server keeps no state and no second copy of any object. Only to tell whether a
// registered data plane answers does it use its own identity (to read the registration's
// kubeconfig), and only after the user's token has listed that registration.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/operators/missioncontrol"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
	"github.com/datastax/mission-control/web"
)

// OpenAPI is the API's OpenAPI 3 document, served at /api/v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// SessionCookie holds the signed-in browser's bearer token (HttpOnly, SameSite=Strict).
const SessionCookie = "mission-control-session"

// csrfHeader must accompany every cookie-authenticated request that changes something: a page of
// another site cannot send a custom header without a CORS preflight, which this server never
// grants.
const csrfHeader = "X-Mission-Control"

// sessionLifetime bounds the session cookie; the token's own expiry still applies.
const sessionLifetime = 8 * time.Hour

// Options configure a Server.
type Options struct {
	// Kubernetes locates the Kubernetes API (address and CA). Its credentials are never used:
	// each request carries the user's token.
	Kubernetes *rest.Config
	// Self reads, with the server's own identity, the registrations' kubeconfig Secrets, to tell
	// whether each data plane answers.
	Self client.Reader
	// Namespace holds the registrations; empty means contract.Namespace.
	Namespace string
	// DataPlaneTimeout bounds each data plane's answer.
	DataPlaneTimeout time.Duration
	// SecureCookies marks the session cookie Secure: set when serving TLS.
	SecureCookies bool
	// Log records requests that failed on the server's side.
	Log *slog.Logger
}

// Server is the API and UI handler.
type Server struct {
	o      Options
	scheme *runtime.Scheme
	mapper meta.RESTMapper
	planes *missioncontrol.DataPlanes
	mux    *http.ServeMux
}

// New builds a Server.
func New(o Options) (*Server, error) {
	if o.Kubernetes == nil || o.Self == nil {
		return nil, errors.New("api: Options.Kubernetes and Options.Self are required")
	}
	if o.Namespace == "" {
		o.Namespace = contract.Namespace
	}
	if o.DataPlaneTimeout == 0 {
		o.DataPlaneTimeout = 5 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	scheme, err := missioncontrol.Scheme()
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, scheme: scheme, mapper: restMapper(),
		planes: &missioncontrol.DataPlanes{Reader: o.Self, Scheme: scheme, Timeout: o.DataPlaneTimeout, Namespace: o.Namespace}}
	s.routes()
	return s, nil
}

// restMapper knows the few kinds the API touches, so that a per-request client needs no
// discovery round trip.
func restMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(v1beta1.GroupVersion.WithKind("MissionControlCluster"), meta.RESTScopeNamespace)
	m.Add(contract.ClientConfigGVK, meta.RESTScopeNamespace)
	m.Add(authenticationv1.SchemeGroupVersion.WithKind("SelfSubjectReview"), meta.RESTScopeRoot)
	return m
}

// ServeHTTP serves the API and the UI.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// route is one operation of the API: the OpenAPI test reads this list.
type route struct {
	method, path string
	handle       func(*request) (any, error)
}

func (s *Server) apiRoutes() []route {
	return []route{
		{"GET", "/api/v1/session", s.getSession},
		{"DELETE", "/api/v1/session", s.signOut},
		{"GET", "/api/v1/clusters", s.listClusters},
		{"POST", "/api/v1/clusters", s.createCluster},
		{"GET", "/api/v1/namespaces/{namespace}/clusters/{name}", s.getCluster},
		{"PATCH", "/api/v1/namespaces/{namespace}/clusters/{name}", s.updateCluster},
		{"DELETE", "/api/v1/namespaces/{namespace}/clusters/{name}", s.deleteCluster},
		{"GET", "/api/v1/dataplanes", s.listDataPlanes},
		{"GET", "/api/v1/operations", s.listOperations},
		{"GET", "/api/v1/openapi.json", func(*request) (any, error) { return json.RawMessage(OpenAPI), nil }},
	}
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	s.mux.HandleFunc("POST /api/v1/session", s.signIn)
	for _, rt := range s.apiRoutes() {
		s.mux.HandleFunc(rt.method+" "+rt.path, s.authenticated(rt.handle))
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &httpError{http.StatusNotFound, fmt.Sprintf("%s %s: no such API operation; GET /api/v1/openapi.json lists them", r.Method, r.URL.Path)})
	})
	static, err := fs.Sub(web.Assets, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(static)
	// The sign-in page and what it loads are the only pages served without a session.
	for path, file := range map[string]string{"/login": "login.html", "/static/login.js": "login.js", "/static/style.css": "style.css", "/static/common.js": "common.js"} {
		s.mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
			http.ServeFileFS(w, r, static, file)
		})
	}
	s.mux.HandleFunc("GET /static/", s.page(func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/static")
		files.ServeHTTP(w, r)
	}))
	s.mux.HandleFunc("GET /{$}", s.page(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, static, "index.html")
	}))
}

// request is an authenticated API request: its user's client and its path values.
type request struct {
	*http.Request
	w    http.ResponseWriter
	user client.Client
}

// httpError is an error with the status it is answered with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// token is the request's bearer token and whether it came from the session cookie.
func token(r *http.Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		t, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return "", false
		}
		return strings.TrimSpace(t), false
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value, true
	}
	return "", false
}

// clientFor is a client that acts as the bearer of token, and nobody else.
func (s *Server) clientFor(token string) (client.Client, error) {
	cfg := rest.AnonymousClientConfig(s.o.Kubernetes)
	cfg.BearerToken = token
	cfg.QPS, cfg.Burst = 50, 100
	return client.New(cfg, client.Options{Scheme: s.scheme, Mapper: s.mapper})
}

var errSignIn = &httpError{http.StatusUnauthorized, "not signed in: send a Kubernetes bearer token (Authorization: Bearer TOKEN) or sign in at /login"}

// authenticated runs handle with a client acting as the request's user.
func (s *Server) authenticated(handle func(*request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, fromCookie := token(r)
		if tok == "" {
			writeError(w, errSignIn)
			return
		}
		if fromCookie && r.Method != http.MethodGet && r.Header.Get(csrfHeader) == "" {
			writeError(w, &httpError{http.StatusForbidden, "a change made with the session cookie needs the header " + csrfHeader + ": 1 (the web UI sends it)"})
			return
		}
		c, err := s.clientFor(tok)
		if err != nil {
			writeError(w, fmt.Errorf("client for the Kubernetes API: %w", err))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		out, err := handle(&request{Request: r, w: w, user: c})
		if err != nil {
			if status(err) >= 500 {
				s.o.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
			}
			writeError(w, err)
			return
		}
		code := http.StatusOK
		switch {
		case r.Method == http.MethodPost:
			code = http.StatusCreated
		case out == nil:
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, code, out)
	}
}

// page serves a page of the UI to a signed-in browser, and sends any other to /login.
func (s *Server) page(serve http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := token(r)
		if tok == "" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if _, err := s.review(r.Context(), tok); err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "no-store")
		serve(w, r)
	}
}

// review asks Kubernetes who the bearer of token is.
func (s *Server) review(ctx context.Context, token string) (Session, error) {
	c, err := s.clientFor(token)
	if err != nil {
		return Session{}, err
	}
	return whoami(ctx, c)
}

// whoami is the session of the client's user, as Kubernetes authenticates it.
func whoami(ctx context.Context, c client.Client) (Session, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return Session{}, err
	}
	u := review.Status.UserInfo
	return Session{User: u.Username, Groups: u.Groups}, nil
}

// signIn checks a token with Kubernetes and keeps it in the session cookie.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	var in SignIn
	if err := decode(http.MaxBytesReader(w, r.Body, 64<<10), &in); err != nil {
		writeError(w, err)
		return
	}
	in.Token = strings.TrimSpace(in.Token)
	if in.Token == "" {
		writeError(w, badRequest("the token is empty: paste a Kubernetes bearer token, e.g. the output of `mission-control admin-token`"))
		return
	}
	session, err := s.review(r.Context(), in.Token)
	if err != nil {
		if apierrors.IsUnauthorized(err) {
			err = &httpError{http.StatusUnauthorized, "Kubernetes refused this token (unknown, expired or revoked): issue a new one, e.g. with `mission-control admin-token`"}
		}
		writeError(w, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: in.Token, Path: "/", HttpOnly: true, Secure: s.o.SecureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLifetime.Seconds())})
	writeJSON(w, http.StatusOK, session)
}

func (s *Server) getSession(r *request) (any, error) {
	return whoami(r.Context(), r.user)
}

// signOut forgets the session cookie. The token stays valid: it is the user's, not ours.
func (s *Server) signOut(r *request) (any, error) {
	http.SetCookie(r.w, &http.Cookie{Name: SessionCookie, Path: "/", HttpOnly: true, Secure: s.o.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	return nil, nil
}

// decode reads a JSON body strictly: an unknown field is an error that names it.
func decode(body io.Reader, into any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", tooLarge.Limit)}
		}
		return badRequest("the body is not the JSON this operation takes (see /api/v1/openapi.json): %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// status is the HTTP status an error is answered with: its own, or the Kubernetes API's.
func status(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	var ks apierrors.APIStatus
	if errors.As(err, &ks) && ks.Status().Code >= 400 {
		return int(ks.Status().Code)
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, err error) {
	code := status(err)
	msg := err.Error()
	var ks apierrors.APIStatus
	switch {
	case code == http.StatusUnauthorized && errors.As(err, &ks):
		msg = "Kubernetes refused the token (unknown, expired or revoked): sign in again with a new one, e.g. from `mission-control admin-token`"
	case errors.As(err, &ks) && ks.Status().Message != "":
		msg = "Kubernetes: " + ks.Status().Message
	}
	writeJSON(w, code, Error{Status: code, Error: msg})
}
