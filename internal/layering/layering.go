// Package layering holds no code: its test keeps the package graph in layers (README.md,
// "Architecture"), so that a package imports only packages of lower layers.
package layering
