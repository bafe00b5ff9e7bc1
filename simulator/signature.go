package simulator

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the API's RPC signature is HMAC-SHA1
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// check verifies the request the way the RPC gateway does: common
// parameters, known key, STS token, timestamp window, unused nonce and the
// HMAC-SHA1 signature over every query and form parameter.
func (s *Server) check(r *http.Request, query, form url.Values) *apiError {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return &apiError{405, "UnsupportedHTTPMethod", "This http method is not supported."}
	}
	params := map[string]string{}
	for _, vals := range []url.Values{query, form} {
		for k, v := range vals {
			if len(v) != 1 {
				return &apiError{400, "InvalidParameter", fmt.Sprintf("The parameter %q is given more than once.", k)}
			}
			params[k] = v[0]
		}
	}
	for _, k := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp", "Version", "Action"} {
		if params[k] == "" {
			return &apiError{400, "IncompleteSignature", fmt.Sprintf("The request signature does not conform to Aliyun standards: %s is missing.", k)}
		}
	}
	if !served(params["Action"]) {
		return &apiError{404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."}
	}
	if params["Version"] != "2021-09-01" {
		return &apiError{400, "InvalidVersion", "Specified parameter Version is not valid."}
	}
	if params["SignatureMethod"] != "HMAC-SHA1" || params["SignatureVersion"] != "1.0" {
		return &apiError{400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."}
	}
	key, ok := s.keys[params["AccessKeyId"]]
	if !ok {
		return &apiError{404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
	}
	if key.SecurityToken != "" && params["SecurityToken"] != key.SecurityToken {
		return &apiError{400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey."}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", params["Timestamp"])
	if err != nil {
		return &apiError{400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."}
	}
	if d := s.Now().Sub(ts); d > 15*time.Minute || d < -15*time.Minute {
		return &apiError{400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}
	}
	stringToSign := StringToSign(r.Method, params)
	if !hmac.Equal([]byte(Sign(stringToSign, key.Secret)), []byte(params["Signature"])) {
		return &apiError{400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:" + stringToSign}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	for n, at := range s.nonces {
		if now.Sub(at) > 15*time.Minute {
			delete(s.nonces, n)
		}
	}
	if _, used := s.nonces[params["SignatureNonce"]]; used {
		return &apiError{400, "SignatureNonceUsed", "Specified signature nonce was used already."}
	}
	s.nonces[params["SignatureNonce"]] = now
	return nil
}

// StringToSign is the canonical form of an RPC request: method, "/" and the
// sorted, percent-encoded parameters (Signature excluded).
func StringToSign(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(b.String())
}

// Sign is HMAC-SHA1 keyed with secret + "&", base64-encoded.
func Sign(stringToSign, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode is RFC 3986 encoding as Alibaba Cloud's RPC signature uses it.
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}
