"""Words, names, places and value formats of the FRESH held-out part (text and images).

Why a table of its own: the generator's tuning and old held-out vocabularies
(pipelines/privacy/generator_vocab.py) and the examples quoted in issues #20 and #23 have all been
looked at while the recognisers were tuned, so none of them may measure generalisation again.
Everything here was written without reading the recognisers and avoids those words on purpose:
other label words of the same classes, other surnames and given names (rare, compound and
word-like ones), other regions, roads, English streets and cities, other number formats.
NEVER tune on these words; `tests/test_heldout_parts.py` checks that none of the label words is
written in the recogniser registry.
"""

from __future__ import annotations

# -- names -----------------------------------------------------------------------------------
ZH_SURNAMES_COMMON = list("林何高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔")
ZH_SURNAMES_RARE = list("仝宓訾禚郗亓邝佘笪缪岑晏甄靳揭隗殳郦鄢巩祁阚晁鞠蒯")  # 逄 厍 冼: rapidocr misreads them
ZH_SURNAMES_WORDLIKE = list("牛车池段单方向白金雷龙江夏易")  # surnames that are also ordinary words
ZH_SURNAMES_COMPOUND = ["皇甫", "慕容", "令狐", "东方", "尉迟", "公孙", "长孙", "宇文", "澹台", "端木", "夏侯", "闻人", "轩辕", "呼延"]
ZH_GIVEN_CHARS = "建志淑佩晓文雅海国兰卫春慧丹琳彤昊铮骁锦瑾珂蕾菁璐翔斌凯岚蓉婷倩薇颖瑶萌峥骞曜彬政泽玥沐川朗桂荣玲福贵"
ZH_GIVEN_WORDS = [
    "建国",
    "志华",
    "淑贞",
    "佩玲",
    "晓东",
    "文博",
    "雅婷",
    "海燕",
    "国栋",
    "兰芝",
    "卫东",
    "春生",
    "秋菊",
    "小红",
    "德胜",
    "美玲",
    "玉兰",
    "振宇",
]
ZH_TITLES = ["先生", "女士", "小姐", "师傅", "阿姨", "老师", "姐", "哥"]

EN_FIRST = [
    "Priya",
    "Mateo",
    "Siobhan",
    "Tobias",
    "Ngozi",
    "Hamish",
    "Yusuf",
    "Ingrid",
    "Dmitri",
    "Aaliyah",
    "Cormac",
    "Beatriz",
    "Kwame",
    "Marisol",
    "Rhys",
    "Tamsin",
    "Anouk",
    "Giovanni",
    "Hiroshi",
    "Fatima",
    "Declan",
    "Esme",
    "Joaquin",
    "Leilani",
    "Bartholomew",
    "Wren",
    "Ximena",
    "Olufemi",
    "Ravi",
    "Greta",
    "Soren",
    "Camille",
    "Desmond",
    "Imogen",
    "Arjun",
    "Nadia",
    "Ezekiel",
    "Rosalind",
    "Tariq",
    "Maeve",
    "Rose",
    "Grace",
    "Hunter",
    "Mark",
    "Will",
    "Summer",
    "Hope",
    "Bill",
    "Jack",
    "Faith",
]  # the last ten are also ordinary English words
EN_LAST = [
    "Oyelaran",
    "Castellanos",
    "MacAllister",
    "Thorvaldsen",
    "Achterberg",
    "Vasquez-Ortiz",
    "O'Donnell",
    "Brennan",
    "Szymanski",
    "Haddad",
    "Nguyen",
    "Kaur",
    "Whitfield",
    "Quintero",
    "Ferreira",
    "Sundberg",
    "Adeyemi",
    "Karlsson",
    "Bianchi",
    "Dubois",
    "Okonkwo",
    "Halvorsen",
    "Rahman",
    "Takahashi",
    "Moreau",
    "Cavanagh",
    "Petrov",
    "Alvarado",
    "Fairweather",
    "Stone",
    "Fox",
    "Rivers",
    "Hill",
    "Marsh",
    "Bell",
    "Church",
]
EN_HANDLES = [
    "moonlit_panda",
    "sk8r_gurl_99",
    "the.real.dev",
    "coffee4ever",
    "blue_heron_77",
    "pixeldust",
    "nightowl.reads",
    "gr8deals_hunter",
]
ZH_NICKNAMES = [
    "快乐的小鱼儿",
    "爱吃橘子的猫",
    "一只小可爱",
    "风清云淡2020",
    "追风少年Leo",
    "糖糖不吃糖",
    "半夏微凉",
    "胖虎买买买",
    "阿狸的尾巴",
    "夜猫子_77",
]

# -- public figures (benign: product information, not personal data) ------------------------------
PUBLIC_FIGURES = {
    "zh": ["周杰伦", "刘德华", "杨幂", "赵丽颖", "易烊千玺", "王一博", "迪丽热巴", "姚明", "成龙", "谷爱凌"],
    "en": [
        "Zendaya",
        "LeBron James",
        "Serena Williams",
        "Roger Federer",
        "Emma Watson",
        "Keanu Reeves",
        "Lionel Messi",
        "Rihanna",
        "Dua Lipa",
        "Pedro Pascal",
    ],
}

# -- places ----------------------------------------------------------------------------------
ZH_REGIONS = [
    ("山东省", "青岛市", "崂山区", "370212"),
    ("河南省", "郑州市", "金水区", "410105"),
    ("辽宁省", "大连市", "沙河口区", "210204"),
    ("陕西省", "西安市", "雁塔区", "610113"),
    ("湖南省", "长沙市", "岳麓区", "430104"),
    ("广西壮族自治区", "南宁市", "青秀区", "450103"),
    ("天津市", "河西区", "", "120103"),
    ("重庆市", "渝中区", "", "500103"),
    ("云南省", "昆明市", "五华区", "530102"),
    ("黑龙江省", "哈尔滨市", "南岗区", "230103"),
    ("内蒙古自治区", "呼和浩特市", "赛罕区", "150105"),
    ("贵州省", "贵阳市", "观山湖区", "520115"),
    ("安徽省", "合肥市", "蜀山区", "340104"),
    ("河北省", "石家庄市", "裕华区", "130108"),
    ("广东省", "佛山市", "顺德区北滘镇", "440606"),
    ("江苏省", "苏州市", "昆山市花桥镇", "320583"),
]
ZH_ROADS = [
    "香港中路",
    "农业路",
    "西安路",
    "科技路",
    "桐梓坡路",
    "民族大道",
    "友谊路",
    "青年大街",
    "东风东路",
    "长春路",
    "滨江大道",
    "黄河南路",
    "翠微巷",
    "学府街",
]
ZH_ESTATES = ["翠湖苑", "金色家园", "丽景湾", "锦绣华庭", "御溪台", "枫林绿洲", "海棠湾", "星河名都", "紫荆公寓", "桃李春风"]
# {n} number, {e} estate, {b} building, {u} unit, {f} floor, {r} room
ZH_BUILDINGS = [
    "{n}号{e}{b}号楼{u}单元{r}",
    "{n}号{e}{b}栋{r}室",
    "{e}{b}-{u}-{r}",
    "{n}号{e}大厦B座{f}层{r}",
    "{e}{b}幢{r}号",
    "{n}号院{b}号楼{r}",
]
ZH_DROP_POINTS = ["{e}东门菜鸟驿站", "{e}{b}号楼楼下快递柜", "{e}南门保安亭", "公司前台（{e}{b}号楼）"]

EN_STREETS = [
    "Juniper Hollow Ln",
    "Sycamore Ridge Rd",
    "Birchwood Ct",
    "Magnolia Blvd",
    "Sandpiper Cir",
    "Quarry Hill Rd",
    "Larkspur Terrace",
    "Fenwick Pl",
    "Dunmore Ave",
    "Wexford St",
    "Alder Glen Dr",
    "Tamarind Close",
    "Thornbury Mews",
    "W 87th St",
    "Wattle Pde",
]
EN_CITIES = [
    "Tucson, AZ 85719",
    "Omaha, NE 68102",
    "Asheville, NC 28801",
    "Eugene, OR 97401",
    "Madison, WI 53703",
    "Halifax, NS B3H 2Y4",
    "Cheltenham GL50 2QA",
    "Brisbane QLD 4000",
    "Galway H91 K2T0",
    "Wellington 6011",
    "Brunswick VIC 3056",
    "New York, NY 10024",
]
EN_ADDRESS_FORMATS = [
    "{num} {street}, {city}",
    "{num} {street}, Apt {apt}, {city}",
    "Apt {apt}, {num} {street}, {city}",
    "Unit {u}/{num} {street}, {city}",
    "{num} {street} #{apt}",
    "PO Box {box}, {city}",
    "{lnum} {lstreet} apt {u} {lcity}",  # typed in chat: lower case, no commas
]

# -- value formats ----------------------------------------------------------------------------
# phone: {a}{b}{c} = 3+4+4 digits of a mainland mobile
CN_MOBILE_FORMATS = [
    "{a}{b}{c}",
    "{a}{b}{c}",
    "+86 {a}-{b}-{c}",
    "0086 {a}{b}{c}",
    "{a}.{b}.{c}",
    "+86({a}){b}{c}",
    "+86{a}{b}{c}",
    "{a} {b} {c}",
    "{a}-{b}{c}",
    "{a}{b} {c}",
]
CN_MOBILE_PREFIXES = [f"13{d}" for d in range(10)] + [
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "166",
    "147",
    "173",
    "177",
    "180",
    "182",
    "185",
    "187",
    "189",
    "191",
    "193",
    "195",
    "198",
    "199",
]
CN_LANDLINE_FORMATS = ["0{area}-{x8}", "(0{area}){x8}", "0{area} {x4} {x4}"]
CN_AREA_CODES = ["532", "371", "411", "29", "731", "771", "22", "23", "871", "451"]
EN_PHONE_FORMATS = [
    "({p3}) 555-01{x2}",
    "{p3}.555.01{x2}",
    "+1-{p3}-555-01{x2}",
    "+61 4{x2} {x3} {x3}",
    "+353 87 {x3} {x4}",
    "04{x2} {x3} {x3}",
    "+49 151 {x8}",
    "{p3}-555-01{x2}",
    "+64 21 {x3} {x4}",
]
ID_BIRTH_YEARS = (1948, 2008)
BANK_PREFIXES = ["621226", "622588", "621483", "623058", "625965", "436742", "601382", "622609", "356833", "518710", "402674"]
BANK_LENGTHS = (16, 19)
EMAIL_DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "foxmail.com",
    "outlook.com",
    "gmail.com",
    "yahoo.co.uk",
    "proton.me",
    "icloud.com",
    "sina.cn",
]
# {dN}: N digits, first not 0; {xN}: N digits; {hN}: N lower-case hex; {AN}: N capitals or digits
ORDER_FORMATS = ["{d19}", "{x3}-{x7}-{x7}", "#{d8}", "ORD-2026-{x6}", "DD{d14}", "SO{d10}", "{d6}-{d15}", "{d18}"]
RETURN_FORMATS = ["RMA-{x7}", "TK{d13}", "AS{d11}", "R{d15}"]
TRACKING_FORMATS = ["75{d13}", "JT{d13}", "DPK{d12}", "LP{d14}", "JDV{d12}", "TBA{d12}", "92{d20}", "LB{d9}SG", "43{d11}", "SFX{d12}"]
ACCOUNT_FORMATS = ["t_{d13}_0{x3}", "jd_{h13}", "wx_{A8}", "{d9}", "{d10}", "@{handle}", "{handle}", "{nick}"]
PLATE_PROVINCES = "鲁豫辽陕湘桂津渝云黑蒙贵皖冀"
EN_PLATE_FORMATS = ["{A2}{x2} {A3}", "{x1}{A3}{x3}", "{A3}-{x4}", "{A2}{x2}{A3}"]
PLATE_SEPARATORS = ["", "·", " ", "•"]

# -- label words (images: key of a key/value pair) --------------------------------------------
LABELS = {
    "person_name": {
        "zh": [
            "签领人",
            "维修技师",
            "上门师傅",
            "揽件员",
            "开户人",
            "业主",
            "投保人",
            "预约人",
            "售后专员",
            "对接人",
            "送装师傅",
            "验收人",
            "登记人",
            "称呼",
            "经营者",
        ],
        "en": [
            "Ship-to party",
            "c/o",
            "Technician",
            "Runner",
            "Shopper",
            "Remit to",
            "Signed for by",
            "Patron",
            "Collected by",
            "Dispatched by",
            "Requested by",
            "Guest",
            "Operator",
        ],
    },
    "phone": {
        "zh": ["联系号", "宅电", "回拨号码", "联络号码", "通讯号码", "来电"],
        "en": ["Cellphone", "Ph.", "Callback number", "Direct line", "SMS", "Reach at"],
    },
    "address": {
        "zh": ["家庭住所", "送达至", "安装位置", "上门位置", "派送至", "投递至", "居住地", "到货位置"],
        "en": ["Destination", "Drop-off point", "Service location", "Premises", "Site", "Deliver at"],
    },
    "order_number": {
        "zh": ["流水号", "凭证号", "商户单号", "预约编码", "申请单", "业务编码", "订单ID"],
        "en": ["Ref #", "Invoice no.", "Purchase ID", "Booking ref", "Claim #", "Return auth"],
    },
    "tracking_number": {
        "zh": ["面单号", "包裹号", "追踪码", "运单编码", "揽件单"],
        "en": ["Docket no.", "Parcel ID", "Shipment #", "Parcel tag", "Track #"],
    },
    "account": {
        "zh": ["主页ID", "闲鱼号", "知乎ID", "淘宝ID", "登录名", "买家ID", "豆瓣ID"],
        "en": ["User tag", "Alias", "Sign-in", "Loyalty no.", "Screen name", "Seller ID"],
    },
    "bank_card": {
        "zh": ["储蓄卡", "信用卡", "打款至", "绑定卡", "开户账号"],
        "en": ["Paid with", "Debit card", "Visa", "Credit card", "Refund to"],
    },
    "id_card": {"zh": ["证件号", "公民身份号码", "实名证件", "身份号"], "en": ["Citizen no.", "ID no.", "Resident ID"]},
    "licence_plate": {"zh": ["送货车", "牌照", "车号"], "en": ["Reg.", "Vehicle reg", "License"]},
    "email": {"zh": ["联系邮件", "邮件地址"], "en": ["Mailbox", "Reply-to", "Inbox"]},
    "store_name": {"zh": ["店家", "入驻商家", "所属门店", "服务商"], "en": ["Fulfilled by", "Stockist", "Retailer", "Storekeeper"]},
}
# waybill section captions (single characters and short words of the same class as 收/寄)
WAYBILL_SIDES = {
    "zh": [("收方", "寄方"), ("到", "出"), ("接收", "始发")],
    "en": [("DEST.", "ORIGIN"), ("INBOUND", "OUTBOUND"), ("TO:", "RTN:")],
}

# -- benign look-alikes -----------------------------------------------------------------------
BRANDS = {
    "zh": ["方太", "老板电器", "科沃斯", "追觅", "石头", "戴森", "松下", "西门子", "安踏", "波司登"],
    "en": ["Dyson", "Anker", "Logitech", "Bose", "Nike", "Uniqlo", "Lego", "Philips", "Garmin", "Kindle"],
}
PRODUCTS = {
    "zh": [
        "扫地机器人",
        "洗碗机",
        "燃气热水器",
        "羽绒服",
        "折叠婴儿车",
        "电热毯",
        "儿童安全座椅",
        "投影仪",
        "智能门锁",
        "破壁料理机",
        "油烟机",
    ],
    "en": [
        "robot vacuum",
        "dishwasher",
        "down jacket",
        "standing desk",
        "mechanical keyboard",
        "baby stroller",
        "smart doorbell",
        "yoga mat",
        "espresso machine",
        "trail runners",
    ],
}
MODELS = [
    "KJ400G-F21",
    "BCD-470WPGD",
    "XQG100-HBD14126L",
    "FS-3306",
    "WF-C700N",
    "A2894",
    "GT-AX6000",
    "QN65Q80C",
    "SR-S18T",
    "T20 Pro",
    "X40 Ultra",
    "V12S-Detect",
    "DX-8500",
]
STORE_SUFFIX = ["京东自营旗舰店", "官方直营店", "生活馆", "电器城", "品牌授权店"]
EN_STORES = ["Northwind Outfitters", "Pebble & Pine Co.", "Harborlight Electronics", "The Gadget Loft"]
STATUS = {
    "zh": ["待安装", "已预约", "商家已同意", "退款关闭", "待评价", "已揽收", "派件中", "已取消"],
    "en": ["Installed", "Scheduled", "Approved", "Closed", "To review", "Picked up", "On its way", "Cancelled"],
}
UI = {
    "zh": ["联系卖家", "查看详情", "改约时间", "催一催", "撤销申请", "去评价", "分享"],
    "en": ["Message seller", "View details", "Reschedule", "Nudge", "Withdraw", "Rate it", "Share"],
}
PAY_METHODS = {"zh": ["微信支付", "花呗分期", "云闪付", "货到付款"], "en": ["Apple Pay", "PayPal", "Cash on delivery", "Gift card"]}
SIZES = {
    "zh": ["XL", "42码", "175/92A", "26寸", "1.8m床", "500ml", "10公斤"],
    "en": ["size M", "US 9.5", "32x30", "queen", "750 ml", "55 inch", "10 lb"],
}
