package traveller

// Words are the words printed on a card, in one locale. font/make.sh
// reads this file: the font carries every character written here.
type Words struct {
	Title, Order, Customer, Product, WorkOrder, Item, Operation, Step, WorkCenter,
	Station, Quantity, Pieces, Due, Operator, Date, Good, Scrap, Inspector, Inspect, Printed, Of string
}

// words by locale (the plant file's locale: zh-CN or en).
var words = map[string]Words{
	"zh-CN": {
		Title: "工序流转卡", Order: "订单号", Customer: "客户", Product: "产品", WorkOrder: "工单号",
		Item: "制件", Operation: "工序", Step: "第 %d / %d 道", WorkCenter: "工作中心", Station: "机台",
		Quantity: "数量", Pieces: "%d 件", Due: "交期", Operator: "操作者", Date: "日期", Good: "合格数",
		Scrap: "报废数", Inspector: "检验员", Inspect: "检验工序", Printed: "打印于", Of: "共 %d 张",
	},
	"en": {
		Title: "Job traveller", Order: "Order", Customer: "Customer", Product: "Product", WorkOrder: "Work order",
		Item: "Item", Operation: "Operation", Step: "step %d of %d", WorkCenter: "Work centre", Station: "Station",
		Quantity: "Quantity", Pieces: "%d pcs", Due: "Due", Operator: "Operator", Date: "Date", Good: "Good",
		Scrap: "Scrap", Inspector: "Inspector", Inspect: "inspection", Printed: "printed", Of: "%d cards",
	},
}

// WordsFor returns the words of locale ("zh-CN", "en"; another falls
// back to zh-CN, the reference plant's).
func WordsFor(locale string) Words {
	if w, ok := words[locale]; ok {
		return w
	}
	return words["zh-CN"]
}
