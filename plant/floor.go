package plant

// What the shop floor's screens need from the plant file: the locale they
// open in, the reasons a person gives for a stop or for scrap, and the
// work instructions of each operation.

// Locales the plant's screens are written in.
const (
	LocaleZH = "zh-CN"
	LocaleEN = "en"
)

// Loss classes a downtime reason counts against (ISO 22400-2).
const (
	LossAvailability = "availability" // unplanned: down, idle or waiting while planned (ADET, ADOT)
	LossSetup        = "setup"        // changeover and setup (AUST)
	LossPlanned      = "planned"      // planned downtime (PDOT): planned maintenance, meetings
)

// LossClasses lists the loss classes, the default first.
var LossClasses = []string{LossAvailability, LossSetup, LossPlanned}

// Reason is an entry of the plant's list of downtime or scrap reasons: a
// stable code the records keep, and the names the screens show.
type Reason struct {
	Code string `json:"code"`
	ZH   string `json:"zh"`
	EN   string `json:"en"`
	Loss string `json:"loss,omitempty"` // downtime reasons: LossAvailability, LossSetup or LossPlanned
}

// Text is a short text in both of the plant's languages.
type Text struct {
	ZH string `json:"zh,omitempty"`
	EN string `json:"en,omitempty"`
}

// DowntimeReason returns the downtime reason with the code, or nil.
func (p *Plant) DowntimeReason(code string) *Reason { return findReason(p.DowntimeReasons, code) }

// ScrapReason returns the scrap reason with the code, or nil.
func (p *Plant) ScrapReason(code string) *Reason { return findReason(p.ScrapReasons, code) }

func findReason(rs []Reason, code string) *Reason {
	for i := range rs {
		if rs[i].Code == code {
			return &rs[i]
		}
	}
	return nil
}
