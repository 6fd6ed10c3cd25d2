package main

import (
	"fmt"
	"io"
	"strings"
)

// "ferry help TOPIC" pages: what a user needs beyond a command's flags.
// They go to stdout, like all help asked for. The pages themselves are in
// cmd_helppages.go, which the router builds leave out (ferry_nohelppages).

// helpTopic is one page.
type helpTopic struct {
	name, summary string
	page          func() string
}

var helpTopics = []helpTopic{
	{"trust", "how the client authenticates servers: CA, pinned keys, aliases", func() string { return trustHelp }},
	{"serial", "serial lines and consoles: devices, rates, outages", func() string { return serialHelp }},
	{"config", "the config file naming devices", configHelp},
	{"exit-codes", "what each exit code means", func() string { return exitCodesHelp }},
}

// showTopic prints the page of topic to w and reports whether there is one.
func showTopic(topic string, w io.Writer) bool {
	for _, t := range helpTopics {
		if t.name == topic {
			fmt.Fprint(w, t.page())
			return true
		}
	}
	return false
}

// topicList is the list of topics for "ferry help".
func topicList() string {
	var b strings.Builder
	for _, t := range helpTopics {
		fmt.Fprintf(&b, "\t%-10s %s\n", t.name, t.summary)
	}
	return b.String()
}
