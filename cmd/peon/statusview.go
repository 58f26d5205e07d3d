package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/peonhq/peon/internal/sysstatus"
)

// printStatus prints the verdict line, then one table per concern.
func printStatus(w io.Writer, p paint, r *statusReport) {
	if r.Verdict == "ok" {
		fmt.Fprintf(w, "%s: %d services answering, %d projections current (read model v%d)\n",
			p.green("ok"), len(r.Services), len(r.Projections), r.version)
	} else {
		fmt.Fprintf(w, "%s: %s\n", p.red("degraded"), strings.Join(r.Problems, "; "))
	}

	table(w, "STREAM\tMESSAGES\tBYTES\tLAST SEQ\tREPLICAS", func(row func(...any)) {
		for _, name := range sortedKeys(r.Streams) {
			s := r.Streams[name]
			if s.Error != "" {
				row(name, p.red(s.Error), "", "", "")
				continue
			}
			row(name, s.Messages, bytesText(s.Bytes), s.LastSequence, s.Replicas)
		}
	})

	// Projections: the reply's known columns first, then whatever else it
	// carries; then the projection's durable consumer.
	known := []string{"last_folded", "stream_last", "lag", "parked", "degraded"}
	var extra []string
	for _, fields := range r.Projections {
		for k := range fields {
			if !slices.Contains(known, k) && !slices.Contains(extra, k) {
				extra = append(extra, k)
			}
		}
	}
	slices.Sort(extra)
	header := "PROJECTION\tLAST FOLDED\tSTREAM LAST\tLAG\tPARKED"
	for _, k := range extra {
		header += "\t" + strings.ToUpper(strings.ReplaceAll(k, "_", " "))
	}
	header += "\tPENDING\tACK PENDING\tREDELIVERED\tVERDICT"
	table(w, header, func(row func(...any)) {
		for _, proj := range r.layout {
			fields, ok := r.Projections[proj.Name]
			cons := r.Consumers[proj.ConsumerName(r.version)]
			cells := []any{proj.Name}
			if !ok {
				cells = append(cells, "-", "-", "-", "-")
				for range extra {
					cells = append(cells, "-")
				}
			} else {
				cells = append(cells, cell(fields["last_folded"]), cell(fields["stream_last"]), cell(fields["lag"]), cell(fields["parked"]))
				for _, k := range extra {
					cells = append(cells, cell(fields[k]))
				}
			}
			verdict := p.green("ok")
			switch {
			case cons.Error != "":
				cells = append(cells, "-", "-", "-")
				verdict = p.red("no consumer")
			case !ok:
				cells = append(cells, cons.Pending, cons.AckPending, cons.Redelivered)
				verdict = p.red("unknown")
			default:
				cells = append(cells, cons.Pending, cons.AckPending, cons.Redelivered)
				if why := projectionProblem(fields, r.maxLag); why != "" {
					verdict = p.red(why)
				} else if number(fields["lag"]) > 0 {
					verdict = p.yellow("catching up")
				}
			}
			row(append(cells, verdict)...)
		}
	})

	if len(r.Reply) > 0 {
		table(w, "STATUS REPLY\tVALUE", func(row func(...any)) {
			for _, k := range sortedKeys(r.Reply) {
				row(k, cell(r.Reply[k]))
			}
		})
	}

	table(w, "SERVICE\tINSTANCES\tNAMES", func(row func(...any)) {
		names := sortedKeys(r.Services)
		for _, req := range sysstatus.RequiredServices {
			if !slices.Contains(names, req) {
				names = append(names, req)
			}
		}
		for _, name := range names {
			s := r.Services[name]
			names := strings.Join(s.Names, ", ")
			if s.Instances == 0 {
				names = p.red("none answers")
			}
			row(name, s.Instances, names)
		}
	})

	printHosts(w, p, r.Hosts)

	table(w, "CONSUMER\tPENDING\tACK PENDING\tREDELIVERED\tACK FLOOR", func(row func(...any)) {
		for _, name := range sortedKeys(r.Consumers) {
			c := r.Consumers[name]
			if c.Error != "" {
				row(name, p.red(c.Error), "", "", "")
				continue
			}
			row(name, c.Pending, c.AckPending, c.Redelivered, c.AckFloor)
		}
	})
}

// table prints a blank line, a header and the rows fill adds, aligned.
func table(w io.Writer, header string, fill func(row func(...any))) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	fill(func(cells ...any) {
		parts := make([]string, len(cells))
		for i, c := range cells {
			parts[i] = fmt.Sprint(c)
		}
		fmt.Fprintln(tw, strings.Join(parts, "\t"))
	})
	tw.Flush()
}

// cell renders a value of the status reply.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case float64:
		return fmt.Sprintf("%.0f", x)
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func bytesText(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
