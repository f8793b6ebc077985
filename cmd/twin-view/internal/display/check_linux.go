package display

import "syscall"

func init() {
	if d, ok := syscall.Getenv("DISPLAY"); ok && d != "" {
		return
	}
	if asksHelp(args()) {
		syscall.Write(2, []byte(Usage))
		syscall.Exit(0)
	}
	syscall.Write(2, []byte(Missing))
	syscall.Exit(1)
}

// args are the command's arguments, from /proc/self/cmdline (os.Args
// belongs to package os, which initialises too late).
func args() []string {
	fd, err := syscall.Open("/proc/self/cmdline", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	var all []byte
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		all = append(all, buf[:n]...)
	}
	var list []string
	for len(all) > 0 {
		i := 0
		for i < len(all) && all[i] != 0 {
			i++
		}
		list = append(list, string(all[:i]))
		if i == len(all) {
			break
		}
		all = all[i+1:]
	}
	if len(list) > 0 {
		list = list[1:] // the program
	}
	return list
}

// asksHelp tells whether args ask for the usage as the flag package
// understands it: -h, -help, --h or --help before "--".
func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--h", "--help":
			return true
		}
	}
	return false
}
