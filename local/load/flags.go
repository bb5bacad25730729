package load

import "flag"

// RegisterFlags binds the command-line flags of `posluha load` to o:
// --rps, --duration, --applicants, --service, --max-in-flight, --offset,
// --progress, --cpuprofile, --memprofile, --blockprofile, --gc-percent. The caller fills in APIURL, Token and Check from the stack.
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&o.RPS, "rps", 100, "arrivals per second")
	fs.DurationVar(&o.Duration, "duration", 0, "how long arrivals go on (e.g. 60s)")
	fs.IntVar(&o.Applicants, "applicants", 0, "total applicants, one application each (e.g. 900000 for a whole payout)")
	fs.StringVar(&o.Service, "service", "lockdown-payout", "the service applied for")
	fs.IntVar(&o.MaxInFlight, "max-in-flight", 4096, "concurrent requests at most")
	fs.IntVar(&o.Offset, "offset", 0, "first generated applicant (use new citizens against the same stack)")
	fs.BoolVar(&o.Progress, "progress", true, "draw progress bars")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the burst (the whole process) to this file")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write an allocation profile of the burst to this file")
	fs.StringVar(&o.BlockProfile, "blockprofile", "", "write a profile of where goroutines waited during the burst to this file")
	fs.IntVar(&o.GCPercent, "gc-percent", 400, "the garbage collector's GOGC during the burst (the drain after it runs on the default) unless GOGC is set (0: the runtime's default)")
}
