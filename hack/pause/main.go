// Command pause is the pod sandbox ("pause") image of the test cluster
// (hack/cluster): it holds a pod's namespaces and sleeps until it is told to
// stop. The cluster cannot pull registry.k8s.io/pause, so it builds this.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
