"""The words, names, value formats, chat templates and layouts of the synthetic screenshots, split
into a *tuning* part and a *held-out* part.

Why: recognisers tuned on the generator's own label words score well on the generator and badly on
real screenshots (issue #9: 66% recall on screenshots whose labels differed). The held-out part
uses label words, names, formats, templates and layouts that the tuning part never shows; tests use
the tuning part only, and `benchmarks/bench_privacy.py` reports the held-out part. A test checks
that no held-out label word appears in the recogniser registry (`recognizers.yaml`), so the
registry cannot have been tuned on them word by word.
"""

from __future__ import annotations

# entity -> language -> label words (the key printed before or above the value)
LABELS = {
    "tune": {
        "person_name": {
            "zh": ["收货人", "收件人", "联系人", "姓名", "买家", "申请人", "客户", "下单人", "快递员", "持卡人"],
            "en": ["Name", "Recipient", "Contact", "Customer", "Buyer", "Account holder", "Consignee"],
        },
        "phone": {"zh": ["手机号码", "联系电话", "电话", "手机"], "en": ["Phone", "Tel", "Mobile"]},
        "address": {"zh": ["收货地址", "地址", "收件地址"], "en": ["Address", "Shipping address", "Ship to"]},
        "order_number": {
            "zh": ["订单号", "运单号", "服务单号", "订单编号"],
            "en": ["Order No.", "Tracking No.", "Service No."],
        },
        "account": {"zh": ["微信", "QQ"], "en": ["WeChat", "QQ"]},
        "bank_card": {"zh": ["银行卡号", "卡号"], "en": ["Card No."]},
        "id_card": {"zh": ["身份证号"], "en": ["ID card"]},
        "licence_plate": {"zh": ["车牌号"], "en": ["Plate"]},
        "store_name": {"zh": ["店铺"], "en": ["Store"]},
        "email": {"zh": ["邮箱"], "en": ["Email"]},
    },
    "heldout": {
        "person_name": {
            "zh": ["提货人", "领取人", "经办人", "发件人", "配送骑士", "真实姓名", "会员姓名", "收货联系人", "承运司机", "负责人"],
            "en": ["Billing name", "Addressee", "Full name", "Ordered by", "Picked up by", "Cardholder", "Sent by", "Name on card"],
        },
        "phone": {
            "zh": ["联系手机", "预留电话", "收件电话", "绑定手机", "固定电话", "移动电话"],
            "en": ["Contact phone", "Phone #", "Mobile no.", "Contact tel", "Daytime phone"],
        },
        "address": {
            "zh": ["配送地址", "详细地址", "取件地址", "寄件地址", "退货地址", "所在地区"],
            "en": ["Delivery address", "Return address", "Send to", "Billing address", "Mailing address"],
        },
        "order_number": {
            "zh": ["退款编号", "售后编号", "快递单号", "物流单号", "交易号", "退货单号", "工单号"],
            "en": ["Order ID", "Tracking number", "Refund ID", "Return ref.", "Case number", "Transaction ID", "Consignment no."],
        },
        "account": {"zh": ["微信账号", "vx号", "QQ号", "企鹅号"], "en": ["WeChat ID", "QQ number"]},
        "bank_card": {"zh": ["退款账户", "收款账号", "银行账号"], "en": ["Account number", "Refund card"]},
        "id_card": {"zh": ["证件号码", "居民身份证号"], "en": ["Passport no."]},
        "licence_plate": {"zh": ["车牌", "车辆"], "en": ["Vehicle"]},
        "store_name": {"zh": ["商家名称", "店铺名称"], "en": ["Storefront", "Merchant name"]},
        "email": {"zh": ["电子邮箱"], "en": ["E-mail"]},
    },
}

NAMES = {
    "tune": {
        "zh_surnames": ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"],
        "zh_given": "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚",
        "en_first": ["James", "Mary", "John", "Linda", "Robert", "Emily", "David", "Sarah", "Michael", "Laura"],
        "en_last": ["Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore", "Clark", "Walker", "Young"],
    },
    "heldout": {
        "zh_surnames": ["欧阳", "司马", "诸葛", "上官", "谭", "邵", "万", "覃", "蒲", "阎", "钟", "温", "姬", "漆", "麦", "植"],
        "zh_given": "梓萱浩然一诺思远子涵雨桐俊熙欣怡宇轩梦琪嘉懿晨曦",
        "en_first": ["Oliver", "Charlotte", "Liam", "Amelia", "Noah", "Isla", "Ethan", "Freya", "Lucas", "Zara"],
        "en_last": ["Okafor", "Fitzgerald", "Nakamura", "Kowalski", "Henderson", "Abernathy", "Delacroix", "Patel", "Lindqvist", "Ramirez"],
    },
}

PLACES = {
    "tune": {
        "zh_regions": [
            ("广东省", "深圳市", "南山区"),
            ("浙江省", "杭州市", "西湖区"),
            ("江苏省", "南京市", "鼓楼区"),
            ("北京市", "朝阳区", ""),
        ],
        "zh_roads": ["科技园路", "文三路", "中山北路", "人民南路", "建国路"],
        "zh_building": "{n}号{b}栋{r}室",
        "en_streets": ["Baker Street", "Maple Avenue", "Oak Road", "Elm Street", "Park Lane"],
        "en_cities": ["London", "Springfield", "Boston", "Seattle"],
        "en_format": "{num} {street}, {city}",
    },
    "heldout": {
        "zh_regions": [
            ("四川省", "成都市", "武侯区"),
            ("湖北省", "武汉市", "洪山区"),
            ("上海市", "浦东新区", ""),
            ("福建省", "厦门市", "思明区"),
        ],
        "zh_roads": ["天府大道", "珞喻路", "张江高科路", "莲前西路", "春熙路"],
        "zh_building": "{n}弄{b}幢{u}单元{r}室",
        "en_streets": ["Kingsley Road", "Willow Crescent", "Harbour Drive", "Chestnut Grove", "Riverside Way"],
        "en_cities": ["Leeds", "Portland", "Dublin", "Bristol"],
        "en_format": "Flat {u}, {num} {street}, {city}",
    },
}

# value formats: how phones and numbers are spaced
FORMATS = {
    "tune": {
        "cn_mobile": ["{a}{b}{c}", "{a}-{b}-{c}", "+86 {a} {b} {c}", "{a} {b} {c}"],
        "intl": ["+44 7700 {x6}", "(212) 555-{x4}"],
        "order": ["{d16}", "{d12}"],
        "tracking": ["SF{d12}", "JD{d13}", "YT{d13}"],
        "card_group": 4,
    },
    "heldout": {
        "cn_mobile": ["+86-{a}-{b}-{c}", "(+86){a}{b}{c}", "{a} {b}{c}", "86 {a}{b}{c}"],
        "intl": ["07700 {x6}", "+44 20 7946 {x4}", "+1 415-555-{x4}", "020 7946 {x4}"],
        "order": ["{d4} {d4} {d4} {d4}", "{d6}-{d6}-{d4}"],
        "tracking": ["1Z {a3} {a3} {d2} {d4} {d4}", "9400 {d4} {d4} {d4} {d4} {d2}", "YT {d4} {d4} {d4} {d1}", "EA{d9}CN"],
        "card_group": 4,
    },
}

# chat messages: {entity} placeholders become planted PII
CHAT = {
    "tune": {
        "zh": ["我的电话是{phone}", "订单号是{order_number}", "我叫{person_name}", "寄到{address}", "加我微信{account}", "卡号{bank_card}"],
        "en": ["My phone is {phone}", "Order No. {order_number}", "Mail me at {email}", "my name is {person_name}", "my number {phone}"],
        "benign_zh": ["这款有现货吗", "什么时候发货呢", "颜色发错了怎么办", "可以开发票吗", "好的谢谢"],
        "benign_en": ["Is this in stock", "When will it ship", "The color is wrong", "Can I get an invoice", "Thanks a lot"],
    },
    "heldout": {
        "zh": [
            "麻烦联系{person_name}，电话{phone}",
            "{person_name} {phone} {address}",
            "退款打到这张卡{bank_card}",
            "我扣扣{account}",
            "车牌{licence_plate}的快递员在楼下",
            "单号{order_number}查一下",
            "收件人写{person_name}吧",
        ],
        "en": [
            "This is {person_name}, you can reach me on {phone}",
            "Please send it to {address}",
            "Card {bank_card} was charged twice",
            "ref {order_number}",
            "drop me a line at {email}",
        ],
        "benign_zh": ["宝贝收到了质量不错", "能便宜点吗", "包装有点破损", "尺码偏小一码", "麻烦催一下物流"],
        "benign_en": ["The box was damaged", "Any discount for two", "Size runs small", "Please hurry the delivery", "Great quality"],
    },
}

BENIGN = {
    "tune": {
        "zh_products": ["无线蓝牙耳机", "智能电饭煲", "纯棉短袖T恤", "电动牙刷"],
        "en_products": ["Wireless Earbuds", "Rice Cooker", "Cotton T-Shirt", "Electric Toothbrush"],
        "zh_status": ["已签收", "运输中", "待发货", "已完成"],
        "en_status": ["Delivered", "In transit", "Awaiting shipment", "Completed"],
        "zh_ui": ["复制", "联系人信息", "查看物流", "再次购买"],
        "en_ui": ["Copy", "Contact details", "Track package", "Buy again"],
        "brands": ["美的", "小米", "格力", "海尔"],
        "store_suffix": ["官方旗舰店", "专营店"],
        "en_stores": ["Acme Official Store", "Brightway Shop"],
        "store_buttons_zh": ["进店", "关注"],
        "store_buttons_en": ["Visit", "Follow"],
    },
    "heldout": {
        "zh_products": ["空气净化器", "不锈钢保温杯", "运动跑步鞋", "家用吹风机"],
        "en_products": ["Air Purifier", "Steel Water Bottle", "Running Shoes", "Hair Dryer"],
        "zh_status": ["退款成功", "退款中", "待取件", "派送中"],
        "en_status": ["Refunded", "Refund pending", "Ready for pickup", "Out for delivery"],
        "zh_ui": ["修改", "收货信息", "申请售后", "删除订单"],
        "en_ui": ["Edit", "Shipping details", "Request refund", "Delete order"],
        "brands": ["九阳", "苏泊尔", "飞利浦", "罗技"],
        "store_suffix": ["小铺", "家居馆", "数码"],
        "en_stores": ["Lily's Closet", "Sunny Home Goods"],
        "store_buttons_zh": ["店铺首页", "收藏店铺"],
        "store_buttons_en": ["Shop now", "+ Follow"],
    },
}

# layouts: which page kinds each part draws (see generator.py)
LAYOUTS = {
    "tune": ["order", "logistics", "after_sales", "chat", "label_photo", "product_photo"],
    "heldout": ["refund", "chat_paste", "store_header", "shipping_label", "profile", "order_table", "product_photo"],
}

PARTS = ("tune", "heldout")
