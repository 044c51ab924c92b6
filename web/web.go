// Package web holds the Mission Control web UI: plain HTML, CSS and JavaScript modules, embedded
// in the API's binary so that the UI works air-gapped (no CDN, nothing fetched at run time).
//
// There is no bundler and no npm dependency on purpose: browsers load ES modules natively, the UI
// is a few hundred lines over the JSON API, and a regulated, disconnected site then has nothing
// to audit but these files, which are served exactly as they are in the repository.
package web

import "embed"

// Assets are the UI's files under static/.
//
//go:embed static
var Assets embed.FS
