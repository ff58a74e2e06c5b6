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

// Command testpod is the workload image of the cluster suite (test/cluster):
// a static binary that stands in for an application reading its Secrets.
//
//	testpod envhash NAME...   print NAME=<hex SHA-256 of $NAME> for each
//	                          variable, never the value, and exit
//	testpod sleep             wait until stopped
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testpod envhash NAME... | testpod sleep")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "envhash":
		for _, name := range os.Args[2:] {
			value, ok := os.LookupEnv(name)
			if !ok {
				fmt.Printf("%s unset\n", name)
				continue
			}
			sum := sha256.Sum256([]byte(value))
			fmt.Printf("%s=%s\n", name, hex.EncodeToString(sum[:]))
		}
	case "sleep":
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		<-stop
	default:
		fmt.Fprintf(os.Stderr, "testpod: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}
