package mqtt

import (
	"log"
	"os"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func init() {
	if os.Getenv("PAHO_DEBUG") != "" {
		paho.ERROR = log.New(os.Stderr, "[paho ERROR] ", 0)
		paho.CRITICAL = log.New(os.Stderr, "[paho CRIT] ", 0)
		paho.WARN = log.New(os.Stderr, "[paho WARN] ", 0)
	}
}
