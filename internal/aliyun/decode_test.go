package aliyun

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/appstream-exporter/appstream_exporter/internal/testkit"
)

// FuzzDecoderMatchesEncodingJSON: on any bytes, decodeModel gives what the
// encoding/json path gave (oracle_test.go): the same error or none, and
// the same values.
//
//	go test ./internal/aliyun -run '^$' -fuzz FuzzDecoderMatchesEncodingJSON -fuzztime 3m
func FuzzDecoderMatchesEncodingJSON(f *testing.F) {
	fixtures, err := filepath.Glob("../exporter/testdata/*.json")
	if err != nil || len(fixtures) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, path := range fixtures {
		f.Add(testkit.MustRead(f, path))
	}
	for _, c := range oddBodies() {
		f.Add([]byte(c.body))
	}
	f.Fuzz(matchesOracle)
}

// TestDecoderMatchesEncodingJSON runs the fuzz test's odd seeds always.
func TestDecoderMatchesEncodingJSON(t *testing.T) {
	for _, c := range oddBodies() {
		t.Run(c.name, func(t *testing.T) { matchesOracle(t, []byte(c.body)) })
	}
}

// oddBodies are what the fixtures lack: odd syntax, odd keys, odd values.
func oddBodies() []struct{ name, body string } {
	deep := func(n int, inner string) string {
		return strings.Repeat("[", n) + inner + strings.Repeat("]", n)
	}
	groups := func(members ...string) string {
		return `{"AppInstanceGroupModels":[` + strings.Join(members, ",") + `]}`
	}
	return []struct{ name, body string }{
		{"null", `null`},
		{"null spaced", " \t\r\nnull\n"},
		{"empty object", `{}`},
		{"empty", ``},
		{"space only", " \n"},
		{"array", `[]`},
		{"string", `"x"`},
		{"number", `1`},
		{"true", `true`},
		{"trailing garbage", `{} x`},
		{"two values", `{}{}`},
		{"trailing NUL", "{}\x00"},
		{"trailing comma", `{"TotalCount":1,}`},
		{"missing colon", `{"TotalCount" 1}`},
		{"missing comma", `{"TotalCount":1 "PageSize":2}`},
		{"lone comma", `{,}`},
		{"array trailing comma", groups(`{}`, ``)},
		{"unclosed key", `{"`},
		{"unclosed", `{"AppInstanceGroupModels":[{}`},
		{"non-string key", `{1:2}`},
		{"form feed is not space", "\f{}"},
		{"NBSP is not space", "\u00a0{}"},
		{"whitespace everywhere", " \t\n\r{ \t\"TotalCount\" \n: \r 5 , \"AppInstanceGroupModels\" : [ { \"Apps\" : [ ] , \"OtaInfo\" : { } } , null ] } \n"},
		{"escapes", `{"RequestId":"a\"b\\c\/d\b\f\n\r\t\u00e9\u0000"}`},
		{"escaped key", `{"\u0052equestId":"r","Total\u0043ount":"7"}`},
		{"lone surrogate", `{"RequestId":"\ud800x","Code":"\uDE00"}`},
		{"surrogate pair", `{"RequestId":"\uD83D\uDE00"}`},
		{"bad escape", `{"RequestId":"\x"}`},
		{"short unicode escape", `{"RequestId":"\u12"}`},
		{"non-hex unicode escape", `{"RequestId":"\u12G4"}`},
		{"escape at end", `{"RequestId":"\`},
		{"invalid UTF-8 value", "{\"RequestId\":\"\xff\xfeok\",\"TotalCount\":\"\xff\"}"},
		{"invalid UTF-8 key", "{\"Request\xffId\":\"x\",\"\xffTotalCount\":1}"},
		{"invalid UTF-8 in a bad value", "{\"TotalCount\":[\"\xe9\xe8\"],\"Message\":{\"\xc3\":1}}"},
		{"raw control character", "{\"RequestId\":\"a\tb\"}"},
		{"raw NUL", "{\"RequestId\":\"a\x00\"}"},
		{"raw unit separator", "{\"RequestId\":\"a\x1f\"}"},
		{"raw DEL", "{\"RequestId\":\"a\x7f\"}"},
		{"depth 10000", `{"Unknown":` + deep(9999, "") + `}`},
		{"depth 10001", `{"Unknown":` + deep(10000, "") + `}`},
		{"depth 10000 in a number", `{"TotalCount":` + deep(9999, "1") + `}`},
		{"depth 10001 in a number", `{"TotalCount":` + deep(10000, "1") + `}`},
		{"depth 10000 in a list", groups(`{"Apps":` + deep(9997, "") + `}`)},
		{"depth 10001 in a list", groups(`{"Apps":` + deep(9998, "") + `}`)},
		{"duplicate keys", `{"TotalCount":1,"TotalCount":"x","PageSize":"x","PageSize":2}`},
		{"duplicate list", `{"AppInstanceGroupModels":[{}],"AppInstanceGroupModels":null}`},
		{"duplicate list, then a list", `{"AppInstanceGroupModels":"x","AppInstanceGroupModels":[{"Amount":1}]}`},
		{"folded then exact", `{"totalcount":1,"TotalCount":2,"PAGESIZE":3}`},
		{"exact then folded", `{"TotalCount":2,"totalCOUNT":1}`},
		{"folded keys", groups(`{"appinstancegroupid":"x","REGIONID":"r","nodepool":[{"NODEPOOLID":"p"}]}`)},
		{"Kelvin sign", groups(`{"Tags":[{"\u212aey":"k1","Value":"v"},{"` + "\u212a" + `EY":"k2"}]}`)},
		{"long s", groups(`{"Tags":[{"\u017fcope":"s"}],"\u017ftatus":"x"}`)},
		{"dotless i is not i", groups(`{"AppPol\u0131cyId":"x","APPPOL\u0130CYID":"y"}`)},
		{"numbers", `{"TotalCount":-0,"PageSize":1e400,"PageNumber":-1e400,"RequestId":1e-400,"Code":1.5E+3,"Message":-0.0}`},
		{"numeric strings", groups(`{"Amount":"85","MinAmount":" 85 ","MaxAmount":"0x10","ReserveAmountRatio":"1_000","ReserveMinAmount":"Inf","ReserveMaxAmount":"infinity","ScalingStep":"NaN","ScalingUsageThreshold":"1e400","SessionTimeout":"-0","ScalingDownAfterIdleMinutes":"\u0038\u0035"}`)},
		{"number with leading zero", `{"TotalCount":01}`},
		{"minus alone", `{"TotalCount":-}`},
		{"bare point", `{"TotalCount":1.}`},
		{"leading point", `{"TotalCount":.5}`},
		{"bare exponent", `{"TotalCount":1e}`},
		{"signed bare exponent", `{"TotalCount":1e+}`},
		{"negative leading zero", `{"TotalCount":-01}`},
		{"plus sign", `{"TotalCount":+1}`},
		{"literals cut", `{"TotalCount":nul}`},
		{"literal too long", `{"TotalCount":nulll}`},
		{"literal misspelt", `{"TotalCount":tru}`},
		{"NaN literal", `{"TotalCount":NaN}`},
		{"groups of every shape", groups(`null`, `"x"`, `1`, `true`, `[]`, `{}`, `[{}]`, `{"AppInstanceGroupId":"g"}`)},
		{"lists of every shape", groups(`{"Apps":[null,{"AppId":1},"a",2,[{}]],"NodePool":[{"RecurrenceSchedules":[{"RecurrenceValues":[null,"1",1,"x",[],{},true,"",-0],"TimerPeriods":[null,{"Amount":"2"},"x"]}]}]}`)},
		{"lists not lists", groups(`{"Apps":{},"NodePool":"x","Tags":1,"ResourceTags":true}`)},
		{"objects of every shape", groups(`{"OtaInfo":null}`, `{"OtaInfo":[]}`, `{"OtaInfo":"x"}`, `{"OtaInfo":{"TaskId":5}}`, `{"OtaInfo":{}}`, `{"OtaInfo":1}`)},
		{"bools", groups(`{"SkipUserAuthCheck":"TRUE","AppPolicyImageCheck":" true ","SupportUserGroupMixedAuth":"\"true\""}`, `{"SkipUserAuthCheck":"tru\u0065","AppPolicyImageCheck":2,"SupportUserGroupMixedAuth":"null"}`, `{"SkipUserAuthCheck":"NULL","AppPolicyImageCheck":"yes","SupportUserGroupMixedAuth":[true]}`, `{"SkipUserAuthCheck":0,"AppPolicyImageCheck":"1","SupportUserGroupMixedAuth":""}`)},
		{"strings of every shape", groups(`{"Status":12,"OsType":true,"RegionId":null,"SpecId":"","AppInstanceGroupName":{"a":[1]},"ChargeType":[]}`)},
		{"long bad values", `{"TotalCount":"` + strings.Repeat("部", 40) + `","PageSize":[` + strings.Repeat(`"x",`, 40) + `1]}`},
		{"unknown fields", `{"Unknown":{"deep":[1,{"x":null}]},"AppInstanceGroupModels":[{"New":[[]],"Amount":1}]}`},
		{"odd model", `{"RequestId":"r","Code":"5","Message":"m","Twin":"t","k":"lower","K":"upper","Plain":"p","Skipped":"s","-":"dash","_":"b","Lists":[[1,"2"],null,"x",[{}]],"Opts":{"a":1},"Nums":{"x":1},"Flags":[1,"0",null,"x"],"Self":[{"k":"x","Self":[null,1,{"K":"y"}]},"z"]}`},
		{"odd model, folded", `{"requestid":"r","CODE":"x","message":"m","twin":"t","\u212a":"kelvin","PLAIN":"p","skipped":"s","LISTS":"x","opts":[],"nums":null,"self":null}`},
	}
}

// oddModel has what the page model lacks: embedded structs and their
// shadowing, names equal under case folding, untagged, skipped and blank
// fields, tolerant types inside tolerant types, a type inside itself.
type oddModel struct {
	Envelope
	otherEnvelope
	thirdEnvelope
	Code    Num `json:"Code"` // shadows Envelope.Code
	Lower   Str `json:"k"`
	Upper   Str `json:"K"`
	Plain   Str
	Skipped Str `json:"-"`
	_       Str
	Lists   List[List[Num]] `json:"Lists"`
	Opts    Opt[List[Str]]  `json:"Opts"`
	Nums    Opt[Num]        `json:"Nums"`
	Flags   List[Bool]      `json:"Flags"`
	Self    List[oddModel]  `json:"Self"`
}

type otherEnvelope struct {
	Message Str // untagged: Envelope's tagged Message wins
	Twin    Str // as thirdEnvelope's, as deep, as untagged: neither is decoded
}

type thirdEnvelope struct{ Twin Str }

// matchesOracle checks body against the encoding/json path, for the page
// model, the odd model and a tolerant type at the top level.
func matchesOracle(t *testing.T, body []byte) {
	t.Helper()
	matchesOracleAs[ListResponse](t, body)
	matchesOracleAs[oddModel](t, body)
	matchesOracleAs[Num](t, body)
	matchesOracleAs[List[Group]](t, body)
}

func matchesOracleAs[T any](t *testing.T, body []byte) {
	t.Helper()
	var got, want T
	gotErr, wantErr := decodeModel(body, &got), json.Unmarshal(body, &want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%T from %q:\ndecodeModel error:   %v\nencoding/json error: %v", got, clip(string(body), 200), gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%T from %q: values differ\n%s", got, clip(string(body), 200), firstDifference(fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", want)))
	}
}

// firstDifference shows where two long texts part.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(i-120, 0)
	return fmt.Sprintf("decodeModel:   …%s\nencoding/json: …%s", clip(got[from:], 240+i-from), clip(want[from:], 240+i-from))
}

// TestDecodeConcurrently: pages decode at once (a refresh fetches several)
// and share each type's plan, its learned key order and its list buffers.
func TestDecodeConcurrently(t *testing.T) {
	bodies := [][]byte{
		testkit.MustRead(t, "../exporter/testdata/reference.json"),
		testkit.MustRead(t, "../exporter/testdata/edge_cases.json"),
	}
	want := make([]*ListResponse, len(bodies))
	for i, body := range bodies {
		var err error
		if want[i], err = DecodeListResponse(body); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for n := range 50 {
				i := (w + n) % len(bodies)
				if got, err := DecodeListResponse(bodies[i]); err != nil || !reflect.DeepEqual(got, want[i]) {
					t.Errorf("body %d decoded concurrently: %v, or other values", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
