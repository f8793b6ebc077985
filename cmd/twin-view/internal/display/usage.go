package display

// Usage is twin-view -h (a copy: TestUsage in cmd/twin-view checks it;
// go test ./cmd/twin-view -run TestUsage -args -update rewrites it).
const Usage = `usage: twin-view --connect URL [--ca FILE] | --data DIR | --scenario FILE [--variants a,b] [flags]

The desktop plant view (a window: Ebitengine on X11):
  --connect URL    follow a running twin (twin demo, serve and play print the address)
  --data DIR       replay the history of a stopped twin (the plant DIR remembers, else --plant)
  --scenario FILE  run two variants of a scenario on the spot, side by side
Drag to pan, wheel to zoom, click a machine, space to play, F to follow, 0 to fit.

flags:
  -ca file
    	with --connect https://…: trust the twin's certificate through this CA file (default $TWIN_CA; the twin's own: DATA/tls/ca.pem)
  -connect address
    	follow a running twin: the web view address it prints (https://host:port/?token=…)
  -cpuprofile file
    	write a CPU profile to this file
  -data directory
    	replay the history in this directory (a stopped twin's --data)
  -for duration
    	quit after this duration, printing the frame rate
  -height int
    	window height (default 800)
  -lang language
    	the viewer's language: zh-CN or en (default: the plant file's locale, else $LANG's)
  -plant file
    	the plant file of --data (default: the plant the directory remembers, else the built-in reference plant)
  -replication int
    	the replication of --scenario to play (default 1)
  -scenario file
    	run this scenario file and play it
  -screenshot file
    	save the last frame to this PNG file (with --for)
  -speed float
    	playback speed, times real time (default 3600)
  -synthetic stations,parts
    	a made-up plant of stations,parts (the frame-rate benchmark)
  -variants a,b
    	the variants to compare, a,b (default: the baseline and the first other)
  -width int
    	window width (default 1280)
`
