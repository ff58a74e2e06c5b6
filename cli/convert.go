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

package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gitseal/gitseal/cli/internal/manifest"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gitsealv1alpha1 "github.com/gitseal/gitseal/api/v1alpha1"
)

// conversion is the pipeline that seal and migrate bitnami share: read
// the inputs, pick the objects to convert, find each file's recipients,
// convert every object on a pool of workers, then print the SealedSecrets
// or, with --write, replace each object in its file. Nothing is written
// unless every object converts; every failure is reported.
type conversion struct {
	IOStreams
	files     []string
	recursive bool
	inPlace   bool
	workers   int
	// format is the output format without --write; with it, every file
	// keeps its own.
	format   manifest.Format
	resolver *targetResolver

	// kind names what is converted ("v1 Secret"), one and many name it
	// in sentences ("Secret", "Secrets"), and verb ("sealed") and doing
	// ("sealing") say what converting it does, for messages.
	kind, one, many, verb, doing string
	// match picks the objects to convert.
	match func(metav1.TypeMeta) bool
	// dropComments replaces, with each object written in place, the
	// comment lines above it: above a plaintext Secret they may hold a
	// value.
	dropComments bool
	// othersHint is said when a file holds objects that do not match,
	// without -R or --write; noneHint when a file holds none that does.
	othersHint, noneHint string
	// convert converts one object: it sets j.out, or j.skipped, and the
	// notes and report to print.
	convert func(j *convertJob) error
}

// convertJob is one object to convert and, once done, what it came to.
type convertJob struct {
	m      manifest.Object
	target *sealTarget

	out *gitsealv1alpha1.SealedSecret
	// doc is out, encoded in the format it is written in.
	doc []byte
	// skipped is set when the object is left as it is, with a note.
	skipped bool
	notes   []string
	// report is the line said on stderr once everything is written.
	report string
	err    error
}

// conversionRun is what a conversion found in its inputs.
type conversionRun struct {
	inputs  []*manifest.Input
	jobs    []*convertJob
	byInput map[*manifest.Input][]*convertJob
	// others counts the objects that did not match, skipped with -R and
	// kept in their files with --write.
	others int
}

// plan reads the inputs, picks the objects to convert and finds each
// file's target. Objects that do not match are an error unless -R skips
// them or --write keeps them in a file that has objects to convert.
func (c *conversion) plan(ctx context.Context) (*conversionRun, error) {
	inputs, err := manifest.ReadInputs(c.files, c.In, c.recursive)
	if err != nil {
		return nil, err
	}
	r := &conversionRun{inputs: inputs, byInput: map[*manifest.Input][]*convertJob{}}
	for _, in := range inputs {
		ms, err := in.Objects()
		if err != nil {
			return nil, err
		}
		var found, others []manifest.Object
		for _, m := range ms {
			if c.match(m.TypeMeta) {
				found = append(found, m)
			} else {
				others = append(others, m)
			}
		}
		switch {
		case len(others) > 0 && !c.recursive && (!c.inPlace || len(found) == 0):
			return nil, withHint(fmt.Errorf("%s: a %s, not a %s", others[0].Where, manifest.DescribeKind(others[0].TypeMeta), c.kind), c.othersHint)
		case len(found) == 0 && !c.recursive:
			return nil, withHint(fmt.Errorf("%s: no %s found", in.Name, c.kind), c.noneHint)
		}
		r.others += len(others)
		if len(found) == 0 {
			continue
		}
		if c.inPlace {
			if err := checkLists(found, others, c.one); err != nil {
				return nil, err
			}
		}
		target, err := c.resolver.resolve(ctx, in.Path)
		if err != nil {
			return nil, err
		}
		for _, m := range found {
			j := &convertJob{m: m, target: target}
			r.jobs = append(r.jobs, j)
			r.byInput[in] = append(r.byInput[in], j)
		}
	}
	return r, nil
}

// checkLists refuses to write in place a List that holds objects to
// convert and others: its documents are replaced whole.
func checkLists(found, others []manifest.Object, one string) error {
	for _, m := range found {
		for _, o := range others {
			if o.Doc == m.Doc {
				return withHint(fmt.Errorf("%s: a %s inside a List cannot be replaced in place, as the List holds other objects", m.Where, one),
					"convert the file to standard output (without -w) and replace it yourself")
			}
		}
	}
	return nil
}

// outputFormat is the format j's SealedSecret is written in.
func (c *conversion) outputFormat(j *convertJob) manifest.Format {
	if c.inPlace {
		return j.m.In.Format
	}
	return c.format
}

// run converts every job on a bounded pool of workers, with a progress
// bar on a terminal.
func (c *conversion) run(r *conversionRun) {
	var done atomic.Int64
	stop := c.progress(len(r.jobs), &done)
	defer stop()

	next := make(chan *convertJob)
	var wg sync.WaitGroup
	for range min(max(c.workers, 1), len(r.jobs)) {
		wg.Go(func() {
			for j := range next {
				if j.err = c.convert(j); j.err == nil && !j.skipped {
					j.doc, j.err = manifest.MarshalSealedSecret(j.out, c.outputFormat(j))
				}
				done.Add(1)
			}
		})
	}
	for _, j := range r.jobs {
		next <- j
	}
	close(next)
	wg.Wait()
}

// failure reports the jobs that failed: a single failure is returned as
// it is; several are each said on stderr, and counted in the error.
func (c *conversion) failure(r *conversionRun) error {
	var errs []error
	for _, j := range r.jobs {
		if j.err != nil {
			errs = append(errs, j.err)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	for _, err := range errs {
		fmt.Fprintf(c.ErrOut, "error: %v\n", err)
	}
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d of %d %s could not be %s; nothing was written", len(errs), len(r.jobs), c.many, c.verb)}
}

// write prints the SealedSecrets, or with --write replaces each object in
// its file, once every file's new content is ready. It returns how many
// objects and files it wrote.
func (c *conversion) write(r *conversionRun) (objects, files int, err error) {
	if !c.inPlace {
		var docs [][]byte
		for _, j := range r.jobs {
			if !j.skipped {
				docs = append(docs, j.doc)
			}
		}
		return len(docs), 0, manifest.WriteDocuments(c.Out, docs, c.format)
	}
	contents := map[*manifest.Input][]byte{}
	for _, in := range r.inputs {
		changes := map[int]manifest.Change{}
		for _, j := range r.byInput[in] {
			if j.skipped {
				continue
			}
			objects++
			ch := changes[j.m.Doc]
			ch.Replace, ch.DropComments = append(ch.Replace, j.doc), c.dropComments
			changes[j.m.Doc] = ch
		}
		if len(changes) == 0 {
			continue
		}
		for _, j := range r.byInput[in] {
			if _, ok := changes[j.m.Doc]; ok && j.skipped {
				return 0, 0, withHint(fmt.Errorf("%s: skipped, but the List that holds it is replaced in place by the objects that convert", j.m.Where),
					"move it to a file of its own; nothing was written")
			}
		}
		mf, err := in.File()
		if err != nil {
			return 0, 0, err
		}
		if contents[in], err = mf.Edit(changes); err != nil {
			return 0, 0, err
		}
	}
	for _, in := range r.inputs {
		if data, ok := contents[in]; ok {
			if err := manifest.WriteFileAtomic(in.Path, data, manifest.ModeOf(in.Path, 0o644)); err != nil {
				return objects, files, err
			}
			files++
		}
	}
	return objects, files, nil
}

// clear wipes what the inputs held, which may be plaintext.
func (r *conversionRun) clear() {
	for _, in := range r.inputs {
		clear(in.Data)
	}
	for _, j := range r.jobs {
		clear(j.m.Raw)
	}
}

// progress draws a progress bar on a terminal for long runs. It returns
// a function that erases it.
func (c *conversion) progress(total int, done *atomic.Int64) func() {
	if total < 50 || !isTerminal(c.ErrOut) {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			n := int(done.Load())
			const width = 30
			bar := strings.Repeat("=", width*n/total) + strings.Repeat(" ", width-width*n/total)
			fmt.Fprintf(c.ErrOut, "\r%s [%s] %d/%d", c.doing, bar, n, total)
			select {
			case <-quit:
				fmt.Fprint(c.ErrOut, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
