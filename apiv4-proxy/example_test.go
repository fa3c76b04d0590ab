package apiv4proxy_test

import (
	"fmt"
	"net/http/httptest"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
)

func ExampleTokenFromRequest() {
	r := httptest.NewRequest("GET", "/api/v4/users/me?access_token=q", nil)
	r.Header.Set("Cookie", "MMAUTHTOKEN=c")
	fmt.Println(apiv4proxy.TokenFromRequest(r)) // the cookie beats the query
	r.Header.Set("Authorization", "Bearer h")
	fmt.Println(apiv4proxy.TokenFromRequest(r)) // the header beats both
	// Output:
	// c
	// h
}
