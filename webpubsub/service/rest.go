package service

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// restParams are the parts of a REST request's path, unescaped.
type restParams struct {
	hub, user, group, connection, permission string
	empty                                    string // the name of a path parameter that was empty, e.g. "group"
}

// restRoute is one REST operation: a method and a path pattern below
// /api/hubs/{hub}/, whose {name} segments fill restParams.
type restRoute struct {
	method  string
	pattern []string
	handle  func(s *Service, w http.ResponseWriter, r *http.Request, p *restParams)
}

// restRoutes lists every hub operation of api-version 2024-12-01.
var restRoutes = []restRoute{
	{"POST", []string{":send"}, (*Service).sendToAll},
	{"POST", []string{":closeConnections"}, (*Service).closeAllConnections},
	{"POST", []string{":generateToken"}, (*Service).generateToken},
	{"POST", []string{":addToGroups"}, (*Service).addConnectionsToGroups},
	{"POST", []string{":removeFromGroups"}, (*Service).removeConnectionsFromGroups},
	{"POST", []string{"users", "{user}", ":send"}, (*Service).sendToUser},
	{"HEAD", []string{"users", "{user}"}, (*Service).userExists},
	{"POST", []string{"users", "{user}", ":closeConnections"}, (*Service).closeUserConnections},
	{"DELETE", []string{"users", "{user}", "groups"}, (*Service).removeUserFromAllGroups},
	{"PUT", []string{"users", "{user}", "groups", "{group}"}, (*Service).addUserToGroup},
	{"DELETE", []string{"users", "{user}", "groups", "{group}"}, (*Service).removeUserFromGroup},
	{"POST", []string{"groups", "{group}", ":send"}, (*Service).sendToGroup},
	{"HEAD", []string{"groups", "{group}"}, (*Service).groupExists},
	{"POST", []string{"groups", "{group}", ":closeConnections"}, (*Service).closeGroupConnections},
	{"GET", []string{"groups", "{group}", "connections"}, (*Service).listConnectionsInGroup},
	{"PUT", []string{"groups", "{group}", "connections", "{connection}"}, (*Service).addConnectionToGroup},
	{"DELETE", []string{"groups", "{group}", "connections", "{connection}"}, (*Service).removeConnectionFromGroup},
	{"POST", []string{"connections", "{connection}", ":send"}, (*Service).sendToConnection},
	{"HEAD", []string{"connections", "{connection}"}, (*Service).connectionExists},
	{"DELETE", []string{"connections", "{connection}"}, (*Service).closeConnection},
	{"DELETE", []string{"connections", "{connection}", "groups"}, (*Service).removeConnectionFromAllGroups},
	{"PUT", []string{"permissions", "{permission}", "connections", "{connection}"}, (*Service).grantPermission},
	{"DELETE", []string{"permissions", "{permission}", "connections", "{connection}"}, (*Service).revokePermission},
	{"HEAD", []string{"permissions", "{permission}", "connections", "{connection}"}, (*Service).checkPermission},
}

// apiVersionPattern is the shape of an api-version value. Versions the
// service does not know are accepted, as later ones only add operations.
// It is compiled on first use: every wps command links the service.
var apiVersionPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)
})

// serveREST routes a request under /api/: it finds the operation, checks
// the token, the api-version and the names, then runs the operation.
func (s *Service) serveREST(w http.ResponseWriter, r *http.Request) {
	segments, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		writeError(w, r, http.StatusBadRequest, "Error.BadRequest", "Path", err.Error())
		return
	}
	if len(segments) == 2 && segments[0] == "api" && segments[1] == "health" {
		if r.Method != http.MethodHead && r.Method != http.MethodGet {
			w.Header().Set("Allow", "HEAD, GET")
			writeError(w, r, http.StatusMethodNotAllowed, "Error.MethodNotAllowed", "Method", "use HEAD /api/health")
			return
		}
		return // 200: the service is up
	}
	if len(segments) < 3 || segments[0] != "api" || segments[1] != "hubs" {
		writeError(w, r, http.StatusNotFound, "Error.NotFound", "Path", fmt.Sprintf("no operation at %s", r.URL.EscapedPath()))
		return
	}
	p := &restParams{hub: segments[2]}
	route, allowed := matchRoute(r.Method, segments[3:], p)
	if route == nil {
		if len(allowed) == 0 {
			writeError(w, r, http.StatusNotFound, "Error.NotFound", "Path", fmt.Sprintf("no operation at %s", r.URL.EscapedPath()))
			return
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, r, http.StatusMethodNotAllowed, "Error.MethodNotAllowed", "Method",
			fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.EscapedPath(), strings.Join(allowed, " or ")))
		return
	}
	w.Header().Set("api-supported-versions", supportedVersions)

	claims, err := parseToken(bearerToken(r), s.key)
	if err == nil {
		err = checkRESTAudience(claims, r)
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, r, http.StatusUnauthorized, "Error.Unauthorized", "Authorization", err.Error())
		return
	}
	switch version := r.URL.Query().Get("api-version"); {
	case version == "":
		writeBadParameter(w, r, "api-version", "The api-version query parameter is required, e.g. api-version=2024-12-01.")
		return
	case !apiVersionPattern().MatchString(version):
		writeBadParameter(w, r, "api-version", fmt.Sprintf("The api-version %q is not a version like 2024-12-01.", version))
		return
	}
	if param, problem := p.check(); problem != "" {
		writeBadParameter(w, r, param, problem)
		return
	}
	route.handle(s, w, r, p)
}

// matchRoute returns the route for method and the path segments after the
// hub, filling p. When the path matches only with other methods, it returns
// nil and those methods.
func matchRoute(method string, segments []string, p *restParams) (*restRoute, []string) {
	var allowed []string
	for i := range restRoutes {
		route := &restRoutes[i]
		if len(route.pattern) != len(segments) {
			continue
		}
		var found restParams
		matched := true
		for j, part := range route.pattern {
			if strings.HasPrefix(part, "{") && segments[j] == "" && found.empty == "" {
				found.empty = strings.Trim(part, "{}")
			}
			switch part {
			case "{user}":
				found.user = segments[j]
			case "{group}":
				found.group = segments[j]
			case "{connection}":
				found.connection = segments[j]
			case "{permission}":
				found.permission = segments[j]
			default:
				matched = matched && part == segments[j]
			}
		}
		if !matched {
			continue
		}
		if route.method != method {
			allowed = append(allowed, route.method)
			continue
		}
		found.hub = p.hub
		*p = found
		return route, nil
	}
	return nil, allowed
}

// check returns the parameter whose name is wrong and what is wrong with
// it, or "", "".
func (p *restParams) check() (param, problem string) {
	if err := checkHub(p.hub); err != nil {
		return "hub", err.Error()
	}
	if p.empty != "" {
		return p.empty, fmt.Sprintf("the %s in the path must not be empty", p.empty)
	}
	if p.group != "" {
		if err := checkGroup(p.group); err != nil {
			return "group", err.Error()
		}
	}
	switch p.permission {
	case "", permJoinLeave, permSend:
	default:
		return "permission", fmt.Sprintf("unknown permission %q: use %s or %s", p.permission, permSend, permJoinLeave)
	}
	return "", ""
}

// splitPath splits an escaped path on "/" and unescapes each segment, so
// an id may contain an escaped "/".
func splitPath(escaped string) ([]string, error) {
	parts := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	for i, part := range parts {
		unescaped, err := url.PathUnescape(part)
		if err != nil {
			return nil, fmt.Errorf("the path segment %q is not properly escaped", part)
		}
		parts[i] = unescaped
	}
	return parts, nil
}
