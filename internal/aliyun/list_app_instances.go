package aliyun

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"golang.org/x/time/rate"
)

// listAppInstances lists the app instances (sessions) of one delivery
// group, a page at a time.
const listAppInstances = "ListAppInstances"

// appInstancesPageSize is the API's largest PageSize: a group's sessions
// are read in as few requests as can be.
const appInstancesPageSize = 100

// maxAppInstancePages bounds one group's paging: an API that never stops
// paging fails the group instead of spending the request budget forever.
const maxAppInstancePages = 1000

// SessionKey is what app instances are counted by: Status and
// SessionStatus as the API sent them ("" when absent).
type SessionKey struct {
	Status, SessionStatus string
}

// GroupSessions is what one group's ListAppInstances pages add up to.
type GroupSessions struct {
	Counts map[SessionKey]int // instances by status, each instance once
	Pages  int                // requests that were answered
}

// RateWait blocks until the next request may be sent, or fails when it
// cannot be sent within ctx. It is called before every attempt, retries
// included, so a budget of requests per second holds for all of them.
type RateWait func(ctx context.Context) error

// ListAppInstances reads every page of one group's app instances and
// counts them by Status and SessionStatus. Pages are read one after the
// other (PageSize 100): most groups take one. Instances may start, end or
// change state while paging; each instance ID is counted once, in the
// state it was first listed in. Only AppInstanceGroupId and paging are
// sent, in the query string as Alibaba's generated SDKs send them; the
// optional filters (AppInstanceIdList, Status) would go in the form body
// and are not used.
func (c *Client) ListAppInstances(ctx context.Context, groupID string, wait RateWait) (GroupSessions, error) {
	out := GroupSessions{Counts: map[SessionKey]int{}}
	seen := map[string]bool{}
	lastPage := maxAppInstancePages // until TotalCount, or a short page, says otherwise
	for page := 1; page <= lastPage; page++ {
		req := c.appInstancesRequest(groupID, page)
		req.before = wait
		resp, err := c.call(ctx, req, "group_id", groupID, "page", page)
		if err != nil {
			return out, err
		}
		out.Pages++
		r := resp.model.(*AppInstancesResponse)
		pageSize := appInstancesPageSize
		if ps := r.PageSize; ps.Set && ps.V >= 1 && int(ps.V) < pageSize {
			pageSize = int(ps.V) // the API capped our PageSize: page by what it serves
		}
		if t := r.TotalCount; page == 1 && t.Set && t.V >= 0 {
			if t.V > float64(pageSize*maxAppInstancePages) {
				return out, fmt.Errorf("%s for group %s: TotalCount %.0f needs more than %d pages; giving up", listAppInstances, groupID, t.V, maxAppInstancePages)
			}
			lastPage = max(1, int(math.Ceil(t.V/float64(pageSize))))
		}
		for _, in := range r.Instances.Items {
			if g := in.AppInstanceGroupID.V; g != "" && g != groupID {
				// The filter was not applied: counting these would give
				// one group's numbers another's sessions.
				return out, malformedFailure(fmt.Sprintf("%s for group %s listed an instance of group %s: the AppInstanceGroupId filter was not applied", listAppInstances, groupID, g))
			}
			if id := in.AppInstanceID.V; id != "" {
				if seen[id] {
					continue
				}
				seen[id] = true
			}
			out.Counts[SessionKey{Status: in.Status.V, SessionStatus: in.SessionStatus.V}]++
		}
		if len(r.Instances.Items) < pageSize {
			break // the last page, or instances ended while paging
		}
		if page == maxAppInstancePages && lastPage == maxAppInstancePages {
			return out, fmt.Errorf("%s for group %s: still paging after %d pages without a TotalCount; giving up", listAppInstances, groupID, maxAppInstancePages)
		}
	}
	return out, nil
}

// ListAppInstancesIdentity names what the answers of ListAppInstances
// depend on besides the group: where and as whom it asks.
func (c *Client) ListAppInstancesIdentity() string {
	return c.identity(c.appInstancesRequest("", 1), "AppInstanceGroupId", "PageSize", "PageNumber")
}

// appInstancesRequest builds one page's call; every parameter goes in the
// query string, where Alibaba's generated SDKs put these.
func (c *Client) appInstancesRequest(groupID string, page int) request {
	return request{
		action: listAppInstances,
		query: map[string]string{
			"RegionId":           c.cfg.RegionID,
			"AppInstanceGroupId": groupID,
			"PageNumber":         strconv.Itoa(page),
			"PageSize":           strconv.Itoa(appInstancesPageSize),
		},
		decode: decodeAppInstancesPage,
	}
}

// decodeAppInstancesPage is the decode of a ListAppInstances request.
func decodeAppInstancesPage(body []byte) (any, *Envelope, error) {
	var r AppInstancesResponse
	if err := decodeModel(body, &r); err != nil {
		return nil, nil, err
	}
	return &r, &r.Envelope, nil
}

// Budget is a request budget shared by every ListAppInstances call of a
// configuration: a token bucket of app_instances.max_requests_per_second
// that holds one token.
type Budget struct {
	limiter *rate.Limiter
	// turn lets one request at a time take a token: a token is taken
	// when the request is about to leave, not reserved ahead by each
	// waiting group, so requests that waited through a stall of the
	// process do not all leave at once when it ends.
	turn chan struct{}
}

// NewBudget is the budget of the client's configuration.
func (c *Client) NewBudget() *Budget {
	return &Budget{limiter: rate.NewLimiter(rate.Limit(c.cfg.AppInstances.MaxRequestsPerSecond), 1), turn: make(chan struct{}, 1)}
}

// Wait is the budget's RateWait: it fails at once when the next request
// could not be sent before ctx's deadline.
func (c *Client) Wait(b *Budget) RateWait {
	return func(ctx context.Context) error {
		select {
		case b.turn <- struct{}{}:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return canceledFailure()
			}
			return c.budgetFailure()
		}
		err := b.limiter.Wait(ctx)
		<-b.turn
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return canceledFailure()
			}
			return c.budgetFailure()
		}
		return nil
	}
}

// budgetFailure: the next request cannot be sent within refresh_timeout.
func (c *Client) budgetFailure() *apiFailure {
	return &apiFailure{Class: classTimeout, ctxErr: context.DeadlineExceeded,
		sentence: fmt.Sprintf("app_instances.max_requests_per_second (%v) leaves no time in refresh_timeout (%s) for the next request: raise either, or query fewer groups (app_instances.group_status)",
			c.cfg.AppInstances.MaxRequestsPerSecond, c.cfg.RefreshTimeout.D())}
}
