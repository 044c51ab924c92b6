package api

import (
	"context"
	"slices"
	"strings"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/datastax/mission-control/internal/contract"
)

// listDataPlanes lists the registrations the user may list, and asks each data plane, with the
// registration's own credential, who that credential is: a data plane that answers is one the
// operator can reach.
func (s *Server) listDataPlanes(r *request) (any, error) {
	visible, err := contract.Registrations(r.Context(), r.user, s.o.Namespace)
	if err != nil {
		return nil, err
	}
	planes, err := s.planes.List(r.Context())
	if err != nil {
		return nil, err
	}
	out := DataPlaneList{Items: make([]DataPlane, len(visible))}
	var wg sync.WaitGroup
	for i, reg := range visible {
		out.Items[i] = DataPlane{Name: reg.Name, DataPlaneContext: reg.Context, Namespaces: reg.Namespaces}
		if out.Items[i].Namespaces == nil {
			out.Items[i].Namespaces = []string{}
		}
		dp := planes[contract.NormalizeContext(reg.Context)]
		if dp == nil || dp.Name != reg.Name {
			out.Items[i].Error = "registration changed while it was read: reload"
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), s.o.DataPlaneTimeout)
			defer cancel()
			s.planes.Connect(ctx, dp)
			item := &out.Items[i]
			item.Server = dp.Server
			if dp.Err != nil {
				item.Error = dp.Err.Error()
				return
			}
			review := &authenticationv1.SelfSubjectReview{}
			if err := dp.Client.Create(ctx, review); err != nil {
				item.Error = err.Error()
				return
			}
			item.Answers, item.User = true, review.Status.UserInfo.Username
		})
	}
	wg.Wait()
	slices.SortFunc(out.Items, func(a, b DataPlane) int { return strings.Compare(a.DataPlaneContext, b.DataPlaneContext) })
	return out, nil
}
