package display

// Missing is what twin-view says without a display.
const Missing = `twin-view: no display to draw on ($DISPLAY is not set): twin-view opens a
window (Ebitengine on X11), and here there is none. Instead:
  - run it on a desktop, from a terminal of its graphical session;
  - or under a virtual display, saving what it draws:
      xvfb-run -a twin-view … --for 5s --screenshot view.png
  - or open the web page the twin prints ("web view  http://127.0.0.1:8080/?token=…",
    from twin demo, twin serve or twin play) in a browser; over SSH, forward its
    port first: ssh -L 8080:127.0.0.1:8080 HOST.
twin-view -h shows the usage.
`
