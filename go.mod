module github.com/mmtoolkit/mmtoolkit

go 1.26.8

require (
	github.com/andybalholm/brotli v1.2.8 // indirect
	github.com/evanw/esbuild v0.28.2 // indirect
	github.com/go-chi/chi/v5 v5.5.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
