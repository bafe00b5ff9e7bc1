package aliyun

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// listAppInstanceGroup lists delivery groups, a page at a time.
const listAppInstanceGroup = "ListAppInstanceGroup"

// PageReader takes the groups of one page of a read of all pages. Pages
// are numbered from 1 and each comes once, several at a time from
// different goroutines. Items may shift between pages while paging, so a
// group can come twice: the reader keeps the first by page number and
// position. A reader must not keep the slice or the groups past the
// refresh: the pages' memory is given back as soon as they are read.
type PageReader func(page int, groups []*Group)

// ListAppInstanceGroup reads every page of one query (bizRegion "" for the
// unfiltered one), hands each page's groups to a reader that read starts,
// and returns how many pages it read: page 1, then the rest with
// max_concurrent_pages in parallel. Any failed page fails the whole fetch,
// and so does a page set that stays incomplete (fewer groups than
// TotalCount) when read twice: serving it would make groups vanish. When
// it reads the pages again, it starts another reader: what the first took
// is to be dropped.
func (c *Client) ListAppInstanceGroup(ctx context.Context, bizRegion string, read func() PageReader) (int, error) {
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		query, body := c.requestParams(bizRegion)
		c.logger.Debug(listAppInstanceGroup+" request", "biz_region", bizRegion, "query", query, "body", body,
			"paging", "PageNumber left out: page N is sent with PageNumber=N")
	}
	ps, err := c.fetchPages(ctx, bizRegion, read())
	if err != nil || ps.consistent() {
		return ps.pages, err
	}
	// Groups were added or removed while paging (TotalCount moved), or
	// items shifted between pages: read the whole set once more.
	c.logger.Debug("page set inconsistent; reading all pages again", "biz_region", bizRegion, "why", ps.why())
	again, err := c.fetchPages(ctx, bizRegion, read())
	pages := ps.pages + again.pages
	switch {
	case err != nil:
		return pages, err
	case again.total > 0 && again.items < again.total:
		return pages, fmt.Errorf("the pages listed %d of TotalCount %d groups, twice in a row; keeping the previous data", again.items, again.total)
	case again.drifted:
		c.logger.Warn("TotalCount changed while paging, twice in a row; serving the pages as read", "biz_region", bizRegion)
	}
	return pages, nil
}

// ListAppInstanceGroupIdentity names what the answers of
// ListAppInstanceGroup(bizRegion) depend on: another query with the same
// identity would read the same groups.
func (c *Client) ListAppInstanceGroupIdentity(bizRegion string) string {
	return c.identity(c.listRequest(bizRegion, 1), "PageSize", "PageNumber")
}

// pageSet is the result of reading all pages once.
type pageSet struct {
	pages   int
	items   int  // groups listed, repeats included
	total   int  // TotalCount of page 1 (0: not given)
	drifted bool // a later page reported another TotalCount
}

// consistent: TotalCount held still and the pages listed that many items
// (a repeated group still counts: TotalCount counts it too).
func (ps *pageSet) consistent() bool {
	return !ps.drifted && (ps.total == 0 || ps.items >= ps.total)
}

func (ps *pageSet) why() string {
	if ps.drifted {
		return "TotalCount changed"
	}
	return fmt.Sprintf("%d of TotalCount %d groups listed", ps.items, ps.total)
}

func (c *Client) fetchPages(ctx context.Context, bizRegion string, take PageReader) (pageSet, error) {
	first, err := c.fetchPage(ctx, bizRegion, 1)
	if err != nil {
		return pageSet{pages: 1}, err
	}
	pageSize := c.cfg.PageSize
	if ps := first.PageSize; ps.Set && ps.V >= 1 && int(ps.V) < pageSize {
		pageSize = int(ps.V) // the API capped our PageSize: page by what it serves
	}
	ps := pageSet{pages: 1, items: len(first.Groups.Items)}
	firstFull := len(first.Groups.Items) >= pageSize
	total := first.TotalCount
	if total.Set && total.V > float64(c.MaxGroups) {
		return ps, fmt.Errorf("TotalCount %.0f exceeds the limit of %d groups per query; narrow it with filters or biz_regions", total.V, c.MaxGroups)
	}
	if total.Set {
		ps.total = int(total.V)
		n := int(math.Ceil(total.V / float64(pageSize)))
		var mu sync.Mutex
		// A page holds a fetch slot only while it is fetched: rendering it
		// (take) must not keep the next pages waiting.
		fetching := make(chan struct{}, c.cfg.MaxConcurrentPages)
		eg, egctx := errgroup.WithContext(ctx)
		for p := 2; p <= n; p++ {
			eg.Go(func() error {
				select {
				case fetching <- struct{}{}:
				case <-egctx.Done():
					return egctx.Err()
				}
				r, err := c.fetchPage(egctx, bizRegion, p)
				<-fetching
				if err != nil {
					return err
				}
				mu.Lock()
				ps.items += len(r.Groups.Items)
				ps.drifted = ps.drifted || r.TotalCount.Set && r.TotalCount.V != total.V
				mu.Unlock()
				take(p, pageGroups(r))
				return nil
			})
		}
		take(1, pageGroups(first)) // while the other pages are fetched
		ps.pages = max(1, n)
		return ps, eg.Wait()
	}
	seen := newGroupCollector(bizRegion)
	seen.add(first) // to tell a repeating API from one that pages
	take(1, pageGroups(first))
	// No TotalCount: page until a short page. An API that ignores
	// PageNumber repeats what it sent; one that never ends hits the cap.
	maxPages := (c.MaxGroups + pageSize - 1) / pageSize
	for full := firstFull; full; {
		if ps.pages >= maxPages {
			return ps, fmt.Errorf("still paging after %d pages without a TotalCount; giving up", maxPages)
		}
		r, err := c.fetchPage(ctx, bizRegion, ps.pages+1)
		ps.pages++
		if err != nil {
			return ps, err
		}
		ps.items += len(r.Groups.Items)
		if len(seen.add(r)) == 0 && len(r.Groups.Items) > 0 {
			return ps, fmt.Errorf("page %d repeats groups of earlier pages and no TotalCount is given: the API seems to ignore PageNumber", ps.pages)
		}
		take(ps.pages, pageGroups(r))
		full = len(r.Groups.Items) >= pageSize
	}
	return ps, nil
}

// pageGroups are the groups of a page.
func pageGroups(r *ListResponse) []*Group {
	groups := make([]*Group, len(r.Groups.Items))
	for i := range r.Groups.Items {
		groups[i] = &r.Groups.Items[i]
	}
	return groups
}

// groupCollector tells which groups of a page it has not seen yet (by
// Group.Key).
type groupCollector struct {
	bizRegion string
	seen      map[string]bool
}

func newGroupCollector(bizRegion string) *groupCollector {
	return &groupCollector{bizRegion: bizRegion, seen: map[string]bool{}}
}

// add returns the page's groups it has not seen, and from now on has.
func (gc *groupCollector) add(r *ListResponse) []*Group {
	var added []*Group
	for i := range r.Groups.Items {
		g := &r.Groups.Items[i]
		key := g.Key(gc.bizRegion)
		if g.AppInstanceGroupID.V != "" && gc.seen[key] {
			continue
		}
		gc.seen[key] = true
		added = append(added, g)
	}
	return added
}

// UniqueGroups is what a PageReader keeps of pages read for bizRegion:
// their groups in order, each once.
func UniqueGroups(bizRegion string, pages ...*ListResponse) []*Group {
	gc := newGroupCollector(bizRegion)
	var groups []*Group
	for _, r := range pages {
		groups = append(groups, gc.add(r)...)
	}
	return groups
}

// fetchPage reads one page.
func (c *Client) fetchPage(ctx context.Context, bizRegion string, pageNumber int) (*ListResponse, error) {
	resp, err := c.call(ctx, c.listRequest(bizRegion, pageNumber), "biz_region", bizRegion, "page", pageNumber)
	if err != nil {
		return nil, err
	}
	return resp.model.(*ListResponse), nil
}

// decodeListPage is the decode of a ListAppInstanceGroup request.
func decodeListPage(body []byte) (any, *Envelope, error) {
	r, err := DecodeListResponse(body)
	if err != nil {
		return nil, nil, err
	}
	return r, &r.Envelope, nil
}

// listRequest builds one page's call. Each parameter goes where Alibaba's
// generated SDKs put it for ListAppInstanceGroup: the list filters
// Status.N, UserGroupIds.N and ExcludedUserGroupIds.N in the form body,
// everything else in the query string. A gateway that reads a parameter
// only from its own place would ignore a filter sent in the other one,
// silently. RegionId is region_id: the SDK's signer would add that value
// anyway, and setting it here makes what is built (and logged) what is sent.
func (c *Client) listRequest(bizRegion string, pageNumber int) request {
	q, body := map[string]string{}, map[string]string{}
	q["RegionId"] = c.cfg.RegionID
	q["ProductType"] = c.cfg.ProductType
	q["PageSize"] = strconv.Itoa(c.cfg.PageSize)
	q["PageNumber"] = strconv.Itoa(pageNumber)
	f := &c.cfg.Filters
	setIf := func(k, v string) {
		if v != "" {
			q[k] = v
		}
	}
	setIf("BizRegionId", bizRegion)
	setIf("AppInstanceGroupId", f.AppInstanceGroupID)
	setIf("AppInstanceGroupName", f.AppInstanceGroupName)
	setIf("AppCenterImageId", f.AppCenterImageID)
	setIf("NodeInstanceType", f.NodeInstanceType)
	setIf("OfficeSiteId", f.OfficeSiteID)
	for i, t := range f.Tags {
		q[fmt.Sprintf("Tag.%d.Key", i+1)] = t.Key
		q[fmt.Sprintf("Tag.%d.Value", i+1)] = t.Value
	}
	for i, s := range f.Status {
		body[fmt.Sprintf("Status.%d", i+1)] = s
	}
	for i, id := range f.UserGroupIDs {
		body[fmt.Sprintf("UserGroupIds.%d", i+1)] = id
	}
	for i, id := range f.ExcludedUserGroupIDs {
		body[fmt.Sprintf("ExcludedUserGroupIds.%d", i+1)] = id
	}
	return request{action: listAppInstanceGroup, query: q, body: body, decode: decodeListPage}
}

// signerParams are what the SDK adds when it signs a request.
var signerParams = []string{"AccessKeyId", "BearerToken", "Format", "SecurityToken", "Signature", "SignatureMethod",
	"SignatureNonce", "SignatureType", "SignatureVersion", "Timestamp", "Action", "Version"}

// requestParams is a query's parameters for the debug log: page 1's query
// string without PageNumber, and its form body, sorted and not
// percent-encoded so tag keys in any script stay readable.
func (c *Client) requestParams(bizRegion string) (query, body string) {
	req := c.listRequest(bizRegion, 1)
	delete(req.query, "PageNumber")
	return readableParams(req.query), readableParams(req.body)
}

// readableParams writes k=v pairs in key order, joined by "&", unescaped.
// The request is not signed yet, so it holds no credential; the signer's
// parameters are left out all the same, should that ever change.
func readableParams(params map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if slices.Contains(signerParams, k) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + params[k])
	}
	return b.String()
}
