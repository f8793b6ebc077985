// Package app serves the people's web app at /app/: the sign-in and start
// page (/app/) and the operator terminal (/app/floor) that the shop floor
// works orders with from a phone, a PDA or a kiosk, in Simplified Chinese
// or English.
//
// The app is plain HTML, CSS and ES modules embedded in the binary (no
// build step), with its words in message catalogues (i18n/zh-CN.json,
// i18n/en.json) and a vendored QR decoder (vendor/jsqr, for browsers
// without BarcodeDetector). It is a view: it calls the public records API
// under /api/v1/ like any client, signs in there, and keeps the actions
// made offline in the browser (IndexedDB) with their client ids until the
// API has them. It holds no secret and serves nothing else.
//
// It is not the plant view (viz/web, at /) nor the API (twin/mes/api).
//
//	mux.Handle("/api/v1/", api.New(db, nil))
//	mux.Handle("/app/", app.Handler())
package app
