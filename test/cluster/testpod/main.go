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
