package query

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Statement is one SQL statement cut from a script.
type Statement struct {
	// Text is the statement without the leading whitespace and comments
	// and without the terminating semicolon.
	Text string
	// Line and Col (1-based, Col in runes) locate Text's first character
	// in the script, so errors can point into the file the user wrote.
	Line, Col int
	// Terminated reports whether a ';' outside quotes and comments ended
	// the statement; the shell keeps reading until it is.
	Terminated bool
}

// Split cuts a script into statements at semicolons that are outside
// string literals ('...', E'...'), quoted identifiers ("..."), dollar-quoted
// strings ($tag$...$tag$), line comments (--) and block comments (/* */,
// nested as in PostgreSQL and DuckDB). Pieces holding only whitespace and
// comments are dropped. The last statement has Terminated false when the
// script does not end it with a ';' (or ends inside a quote or comment).
//
// DuckDB's C API can split a script too, but it does not return each
// statement's text, which the output (one result per statement), --out
// (COPY (stmt) TO) and error positions all need.
func Split(src string) []Statement {
	var out []Statement
	s := splitter{src: src, line: 1, col: 1}
	start := -1 // byte offset of the current statement's first significant char
	var sLine, sCol int
	begin := func() {
		if start < 0 {
			start, sLine, sCol = s.pos, s.line, s.col
		}
	}
	for s.pos < len(src) {
		c := src[s.pos]
		switch {
		case c == '-' && s.peek(1) == '-':
			s.skipLineComment()
		case c == '/' && s.peek(1) == '*':
			s.skipBlockComment()
		case c == '\'':
			begin()
			s.skipQuoted('\'', false)
		case (c == 'e' || c == 'E') && s.peek(1) == '\'' && !s.identBefore():
			begin()
			s.advance(1)
			s.skipQuoted('\'', true)
		case c == '"':
			begin()
			s.skipQuoted('"', false)
		case c == '$':
			begin()
			if tag, ok := s.dollarTag(); ok {
				s.skipDollar(tag)
			} else {
				s.advance(1)
			}
		case c == ';':
			if start >= 0 {
				out = append(out, Statement{Text: strings.TrimRightFunc(src[start:s.pos], unicode.IsSpace), Line: sLine, Col: sCol, Terminated: true})
				start = -1
			}
			s.advance(1)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.advance(1)
		default:
			begin()
			s.advance(1)
		}
	}
	if start >= 0 {
		out = append(out, Statement{Text: strings.TrimRightFunc(src[start:], unicode.IsSpace), Line: sLine, Col: sCol})
	}
	return out
}

// Complete reports whether src holds at least one statement and every
// statement in it is terminated, i.e. a shell may run it now.
func Complete(src string) bool {
	st := Split(src)
	return len(st) > 0 && st[len(st)-1].Terminated && !openAtEnd(src)
}

// openAtEnd reports whether src ends inside a quote or comment; a ';' seen
// there does not end a statement, but Split already handles that. It also
// catches the case of a terminated statement followed by an unterminated
// quote that holds no significant text yet (a lone comment opener).
func openAtEnd(src string) bool {
	s := splitter{src: src, line: 1, col: 1}
	for s.pos < len(src) {
		c := src[s.pos]
		switch {
		case c == '-' && s.peek(1) == '-':
			s.skipLineComment()
		case c == '/' && s.peek(1) == '*':
			if !s.skipBlockComment() {
				return true
			}
		case c == '\'' || c == '"':
			if !s.skipQuoted(c, false) {
				return true
			}
		case c == '$':
			if tag, ok := s.dollarTag(); ok {
				if !s.skipDollar(tag) {
					return true
				}
			} else {
				s.advance(1)
			}
		default:
			s.advance(1)
		}
	}
	return false
}

type splitter struct {
	src       string
	pos       int
	line, col int
}

func (s *splitter) peek(n int) byte {
	if s.pos+n < len(s.src) {
		return s.src[s.pos+n]
	}
	return 0
}

// advance moves n bytes forward, keeping line and rune column.
func (s *splitter) advance(n int) {
	end := min(s.pos+n, len(s.src))
	for s.pos < end {
		r, size := utf8.DecodeRuneInString(s.src[s.pos:])
		if r == '\n' {
			s.line++
			s.col = 1
		} else {
			s.col++
		}
		s.pos += size
	}
}

// identBefore reports whether the byte before pos continues an identifier,
// so that the e in "name'..." is not the prefix of an E-string.
func (s *splitter) identBefore() bool {
	if s.pos == 0 {
		return false
	}
	b := s.src[s.pos-1]
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}

func (s *splitter) skipLineComment() {
	for s.pos < len(s.src) && s.src[s.pos] != '\n' {
		s.advance(1)
	}
}

// skipBlockComment skips a (possibly nested) /* */ comment; false if the
// input ends first.
func (s *splitter) skipBlockComment() bool {
	depth := 0
	for s.pos < len(s.src) {
		switch {
		case s.src[s.pos] == '/' && s.peek(1) == '*':
			depth++
			s.advance(2)
		case s.src[s.pos] == '*' && s.peek(1) == '/':
			depth--
			s.advance(2)
			if depth == 0 {
				return true
			}
		default:
			s.advance(1)
		}
	}
	return false
}

// skipQuoted skips a quoted run starting at pos; a doubled quote is an
// escaped quote, and with backslash set (E-strings) so is \'. It returns
// false if the input ends first.
func (s *splitter) skipQuoted(q byte, backslash bool) bool {
	s.advance(1)
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case backslash && c == '\\':
			s.advance(2)
		case c == q && s.peek(1) == q:
			s.advance(2)
		case c == q:
			s.advance(1)
			return true
		default:
			s.advance(1)
		}
	}
	return false
}

// dollarTag reads a $tag$ opener at pos ($$ or $name$); $1 parameters and
// a $ inside an identifier are not openers.
func (s *splitter) dollarTag() (string, bool) {
	if s.identBefore() {
		return "", false
	}
	i := s.pos + 1
	for i < len(s.src) {
		b := s.src[i]
		if b == '$' {
			return s.src[s.pos : i+1], true
		}
		isLetter := b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
		isDigit := b >= '0' && b <= '9'
		if !(isLetter || isDigit && i > s.pos+1) {
			return "", false
		}
		i++
	}
	return "", false
}

// skipDollar skips a dollar-quoted string whose opener tag is at pos.
func (s *splitter) skipDollar(tag string) bool {
	s.advance(len(tag))
	idx := strings.Index(s.src[s.pos:], tag)
	if idx < 0 {
		s.advance(len(s.src) - s.pos)
		return false
	}
	s.advance(idx + len(tag))
	return true
}
