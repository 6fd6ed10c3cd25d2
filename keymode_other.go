//go:build !unix

package main

import "io"

// warnKeyMode does nothing where file modes do not say who reads a file.
func warnKeyMode(string, io.Writer) {}

// warnDescriptors does nothing where there is no descriptor limit to read.
func warnDescriptors(int, io.Writer) {}
