/*
Copyright 2026 The gitseal Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package logging makes loggers safe to hand to client-go: whatever
// verbosity is asked for, request and response bodies, which carry Secret
// data, are never logged.
package logging

import "github.com/go-logr/logr"

// MaxVerbosity is the highest V-level that is ever logged. client-go logs
// request headers at 7 and request and response bodies at 8 and above.
const MaxVerbosity = 5

// bodyMessages are client-go's messages that carry a request or response
// body, dropped even if some caller logs them at a low level.
var bodyMessages = map[string]bool{"Request Body": true, "Response Body": true}

// Safe wraps l so that V-levels above MaxVerbosity and client-go's body
// dumps are dropped.
func Safe(l logr.Logger) logr.Logger {
	return logr.New(&safeSink{l.GetSink()})
}

type safeSink struct{ logr.LogSink }

func (s *safeSink) Enabled(level int) bool {
	return level <= MaxVerbosity && s.LogSink.Enabled(level)
}

func (s *safeSink) Info(level int, msg string, kv ...any) {
	if level <= MaxVerbosity && !bodyMessages[msg] {
		s.LogSink.Info(level, msg, kv...)
	}
}

func (s *safeSink) WithValues(kv ...any) logr.LogSink { return &safeSink{s.LogSink.WithValues(kv...)} }
func (s *safeSink) WithName(name string) logr.LogSink { return &safeSink{s.LogSink.WithName(name)} }

// Init passes through to the wrapped sink. Call depth is adjusted by one,
// since every call goes through this wrapper.
func (s *safeSink) Init(info logr.RuntimeInfo) {
	info.CallDepth++
	s.LogSink.Init(info)
}
