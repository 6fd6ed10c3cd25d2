package frame

import "strconv"

// Code is a request or response code. Requests are 1000-1999, responses
// 2000-2999. Codes 1025-1031 and 2100-2107 keep seed 004's meanings; the
// others are new in version 4.
type Code uint16

// Request codes.
const (
	CodeHello       Code = 1000 // v4: client hello, starts the handshake
	CodeRegister    Code = 1025 // register a name (v4: with its Ed25519 key)
	CodePublicKey   Code = 1026 // v3 only: the client's RSA public key
	CodeReconnect   Code = 1027 // reconnect as a registered client
	CodeSendFile    Code = 1028 // file metadata (v4) or the whole file (v3)
	CodeChecksumOK  Code = 1029 // the server's checksum matched
	CodeChecksumBad Code = 1030 // checksum mismatch, the file follows again
	CodeGiveUp      Code = 1031 // fourth mismatch, abandon the file
	CodeChunk       Code = 1032 // v4: a chunk of file content, more follow
	CodeLastChunk   Code = 1033 // v4: the last chunk of file content
	CodeBye         Code = 1034 // v4: the client ends the session
)

// Response codes.
const (
	CodeServerHello  Code = 2000 // v4: server hello: key share, certificates
	CodeServerVerify Code = 2001 // v4: the server's signature over the transcript
	CodeRegistered   Code = 2100 // registration done, here is the client ID
	CodeNameTaken    Code = 2101 // registration refused: name taken
	CodeKeyAccepted  Code = 2102 // v3: the AES key, encrypted to the client
	CodeFileReceived Code = 2103 // the file is in, here is its checksum
	CodeThanks       Code = 2104 // answers 1029 and 1031 (and v4 1034)
	CodeReconnected  Code = 2105 // reconnection accepted (v3: with the AES key)
	CodeDenied       Code = 2106 // reconnection refused
	CodeError        Code = 2107 // general error (v4: with a UTF-8 reason)
)

// codeNames names the codes of both protocol versions; opCodeNames
// (ops.go) those of the features. Slices rather than a map: a map literal
// is code run at start, a slice of constants is data.
var codeNames = []codeName{
	{CodeHello, "hello"}, {CodeRegister, "register"}, {CodePublicKey, "public-key"},
	{CodeReconnect, "reconnect"}, {CodeSendFile, "send-file"}, {CodeChecksumOK, "checksum-ok"},
	{CodeChecksumBad, "checksum-bad"}, {CodeGiveUp, "give-up"}, {CodeChunk, "chunk"},
	{CodeLastChunk, "last-chunk"}, {CodeBye, "bye"},
	{CodeServerHello, "server-hello"}, {CodeServerVerify, "server-verify"}, {CodeRegistered, "registered"}, {CodeNameTaken, "name-taken"},
	{CodeKeyAccepted, "key-accepted"}, {CodeFileReceived, "file-received"}, {CodeThanks, "thanks"},
	{CodeReconnected, "reconnected"}, {CodeDenied, "denied"}, {CodeError, "error"},
}

type codeName struct {
	code Code
	name string
}

// name returns the name of c, if it has one.
func (c Code) name() (string, bool) {
	for _, names := range [2][]codeName{codeNames, opCodeNames} {
		for _, n := range names {
			if n.code == c {
				return n.name, true
			}
		}
	}
	return "", false
}

// String names the code, for logs and error messages.
func (c Code) String() string {
	if n, ok := c.name(); ok {
		return n + "(" + strconv.Itoa(int(c)) + ")"
	}
	return "unknown(" + strconv.Itoa(int(c)) + ")"
}

// Known reports whether c is a code of either protocol version.
func (c Code) Known() bool {
	_, ok := c.name()
	return ok
}
