"""Small built-in shopping vocabulary (English canonical forms + Chinese equivalents).

Data only, no logic: `assistant.rules` uses it to parse messages deterministically and to turn
Chinese product words into English search text for the English embedding model. Canonical values
are lowercase English; product types are singular.
"""
from __future__ import annotations

from retrieval.facets import COLOURS, COLUMN_ONLY_COLOURS

# Product types: English surface form -> canonical category (singular, lowercase).
PRODUCTS_EN: dict[str, str] = {
    # lips
    "lipstick": "lipstick", "lipsticks": "lipstick", "lip stick": "lipstick",
    "lip gloss": "lip gloss", "lipgloss": "lip gloss", "lip glosses": "lip gloss",
    "lip balm": "lip balm", "lip balms": "lip balm", "chapstick": "lip balm",
    "lip liner": "lip liner", "lip stain": "lip stain", "lip oil": "lip oil", "lip tint": "lip tint",
    "lip plumper": "lip plumper",
    # face makeup
    "foundation": "foundation", "foundations": "foundation", "cushion foundation": "cushion foundation",
    "concealer": "concealer", "concealers": "concealer", "primer": "primer", "face primer": "primer",
    "setting powder": "setting powder", "face powder": "face powder", "powder": "powder",
    "blush": "blush", "blusher": "blush", "bronzer": "bronzer", "highlighter": "highlighter",
    "contour": "contour", "setting spray": "setting spray", "bb cream": "bb cream", "cc cream": "cc cream",
    "tinted moisturizer": "tinted moisturizer",
    # eyes
    "eyeshadow": "eyeshadow", "eye shadow": "eyeshadow", "eyeshadows": "eyeshadow",
    "eyeshadow palette": "eyeshadow palette", "eye shadow palette": "eyeshadow palette",
    "palette": "palette", "eyeliner": "eyeliner", "eye liner": "eyeliner", "eyeliners": "eyeliner",
    "mascara": "mascara", "mascaras": "mascara", "eyebrow pencil": "eyebrow pencil",
    "brow pencil": "eyebrow pencil", "brow gel": "brow gel", "false lashes": "false eyelashes",
    "false eyelashes": "false eyelashes", "lashes": "false eyelashes", "eyelash curler": "eyelash curler",
    "lash serum": "lash serum",
    # skin care
    "face cream": "face cream", "facial cream": "face cream", "cream": "cream", "creams": "cream",
    "moisturizer": "moisturizer", "moisturiser": "moisturizer", "moisturizers": "moisturizer",
    "face moisturizer": "moisturizer", "night cream": "night cream", "day cream": "day cream",
    "eye cream": "eye cream", "serum": "serum", "serums": "serum", "face serum": "serum",
    "vitamin c serum": "vitamin c serum", "retinol serum": "retinol serum", "retinol": "retinol",
    "toner": "toner", "toners": "toner", "essence": "essence", "face oil": "face oil", "facial oil": "face oil",
    "cleanser": "cleanser", "face wash": "cleanser", "facial cleanser": "cleanser",
    "facial wash": "cleanser", "cleansing oil": "cleansing oil", "micellar water": "micellar water",
    "makeup remover": "makeup remover", "face mask": "face mask", "sheet mask": "sheet mask",
    "clay mask": "clay mask", "masks": "face mask", "mask": "face mask", "exfoliator": "exfoliator",
    "scrub": "scrub", "face scrub": "scrub", "peel": "peel", "sunscreen": "sunscreen",
    "sunscreens": "sunscreen", "sunblock": "sunscreen", "sun cream": "sunscreen",
    "spf lotion": "sunscreen", "acne treatment": "acne treatment", "spot treatment": "acne treatment",
    "pimple patches": "pimple patch", "pimple patch": "pimple patch",
    # body / bath
    "body lotion": "body lotion", "lotion": "lotion", "lotions": "lotion", "body cream": "body cream",
    "body butter": "body butter", "hand cream": "hand cream", "hand lotion": "hand cream",
    "foot cream": "foot cream", "body wash": "body wash", "shower gel": "body wash",
    "soap": "soap", "bar soap": "soap", "bath bomb": "bath bomb", "bath bombs": "bath bomb",
    "bubble bath": "bubble bath", "body oil": "body oil", "body scrub": "body scrub",
    "body mist": "body mist", "deodorant": "deodorant", "antiperspirant": "antiperspirant",
    "self tanner": "self tanner", "essential oil": "essential oil", "essential oils": "essential oil",
    # fragrance
    "perfume": "perfume", "perfumes": "perfume", "fragrance": "perfume", "fragrances": "perfume",
    "eau de parfum": "perfume", "eau de toilette": "perfume", "cologne": "cologne",
    "colognes": "cologne", "scent": "perfume",
    # hair
    "shampoo": "shampoo", "shampoos": "shampoo", "dry shampoo": "dry shampoo",
    "conditioner": "conditioner", "conditioners": "conditioner",
    "leave-in conditioner": "leave-in conditioner", "hair mask": "hair mask", "hair oil": "hair oil",
    "hair serum": "hair serum", "hair spray": "hair spray", "hairspray": "hair spray",
    "hair gel": "hair gel", "hair wax": "hair wax", "pomade": "pomade", "hair dye": "hair dye",
    "hair color": "hair dye", "hair colour": "hair dye", "hair dryer": "hair dryer",
    "hairdryer": "hair dryer", "blow dryer": "hair dryer", "flat iron": "hair straightener",
    "straightener": "hair straightener", "hair straightener": "hair straightener",
    "curling iron": "curling iron", "curling wand": "curling iron", "hair brush": "hair brush",
    "hairbrush": "hair brush", "comb": "comb", "hair clips": "hair clip", "hair ties": "hair tie",
    "wig": "wig",
    # nails
    "nail polish": "nail polish", "nail polishes": "nail polish", "nail lacquer": "nail polish",
    "nail varnish": "nail polish", "gel polish": "gel nail polish", "gel nail polish": "gel nail polish",
    "nail polish remover": "nail polish remover", "top coat": "top coat", "base coat": "base coat",
    "nail file": "nail file", "nail clippers": "nail clipper", "nail art": "nail art",
    "press on nails": "press-on nails", "press-on nails": "press-on nails", "cuticle oil": "cuticle oil",
    # men / tools
    "razor": "razor", "razors": "razor", "shaving cream": "shaving cream", "shave gel": "shaving cream",
    "aftershave": "aftershave", "beard oil": "beard oil", "beard trimmer": "beard trimmer",
    "trimmer": "trimmer", "electric shaver": "electric shaver", "toothpaste": "toothpaste",
    "toothbrush": "toothbrush", "electric toothbrush": "electric toothbrush",
    "makeup brush": "makeup brush", "makeup brushes": "makeup brush", "brush set": "makeup brush",
    "makeup sponge": "makeup sponge", "beauty blender": "makeup sponge", "tweezers": "tweezers",
    "makeup bag": "makeup bag", "cosmetic bag": "makeup bag", "mirror": "mirror",
    "gift set": "gift set", "makeup": "makeup", "make up": "makeup", "skincare": "skin care",
    "skin care": "skin care",
    # fashion (imported catalogs such as Adidas / Myntra)
    "shoes": "shoes", "shoe": "shoes", "sneakers": "sneakers", "sneaker": "sneakers",
    "trainers": "sneakers", "running shoes": "running shoes", "running shoe": "running shoes",
    "sandals": "sandals", "slides": "slides", "boots": "boots", "heels": "heels",
    "t-shirt": "t-shirt", "t-shirts": "t-shirt", "tee": "t-shirt", "tshirt": "t-shirt",
    "shirt": "shirt", "shirts": "shirt", "hoodie": "hoodie", "hoodies": "hoodie",
    "sweatshirt": "sweatshirt", "jacket": "jacket", "jackets": "jacket", "coat": "coat",
    "dress": "dress", "dresses": "dress", "skirt": "skirt", "jeans": "jeans", "pants": "pants",
    "trousers": "pants", "track pants": "track pants", "joggers": "joggers", "shorts": "shorts",
    "leggings": "leggings", "socks": "socks", "backpack": "backpack", "bag": "bag", "bags": "bag",
    "handbag": "handbag", "tote": "tote bag", "tote bag": "tote bag", "wallet": "wallet",
    "watch": "watch", "watches": "watch", "sunglasses": "sunglasses", "cap": "cap", "hat": "hat",
    "scarf": "scarf", "kurta": "kurta", "saree": "saree", "sweater": "sweater", "bra": "bra",
    "swimsuit": "swimsuit", "belt": "belt", "jewelry": "jewelry", "necklace": "necklace",
    "earrings": "earrings", "ring": "ring", "bracelet": "bracelet",
}

# Chinese product words -> canonical English category (longest match wins).
# Product words that name a whole department rather than a kind of product: a shopper asking for
# "skin care" wants to browse; the demo's first example request should name a kind ("a moisturizer").
BROAD_PRODUCTS = frozenset({"skin care", "makeup", "gift set", "set"})

PRODUCTS_ZH: dict[str, str] = {
    "口红": "lipstick", "唇膏": "lip balm", "润唇膏": "lip balm", "唇釉": "lip gloss", "唇彩": "lip gloss",
    "唇蜜": "lip gloss", "唇油": "lip oil", "唇线笔": "lip liner", "粉底液": "foundation", "粉底": "foundation",
    "气垫": "cushion foundation", "遮瑕": "concealer", "遮瑕膏": "concealer", "妆前乳": "primer",
    "隔离霜": "primer", "隔离": "primer", "散粉": "setting powder", "蜜粉": "setting powder",
    "粉饼": "face powder", "腮红": "blush", "高光": "highlighter", "修容": "contour",
    "定妆喷雾": "setting spray", "BB霜": "bb cream", "bb霜": "bb cream", "CC霜": "cc cream",
    "眼影盘": "eyeshadow palette", "眼影": "eyeshadow", "眼线笔": "eyeliner", "眼线液": "eyeliner",
    "眼线": "eyeliner", "睫毛膏": "mascara", "假睫毛": "false eyelashes", "眉笔": "eyebrow pencil",
    "睫毛夹": "eyelash curler", "面霜": "face cream", "晚霜": "night cream", "日霜": "day cream",
    "眼霜": "eye cream", "保湿霜": "moisturizer", "乳液": "lotion", "精华液": "serum", "精华": "serum",
    "爽肤水": "toner", "化妆水": "toner", "柔肤水": "toner", "洗面奶": "cleanser", "洁面乳": "cleanser",
    "洁面": "cleanser", "卸妆油": "cleansing oil", "卸妆水": "micellar water", "卸妆": "makeup remover",
    "面膜": "face mask", "去角质": "exfoliator", "磨砂膏": "scrub", "防晒霜": "sunscreen",
    "防晒乳": "sunscreen", "防晒喷雾": "sunscreen spray", "防晒": "sunscreen", "身体乳": "body lotion",
    "润肤乳": "body lotion", "护手霜": "hand cream", "沐浴露": "body wash", "香皂": "soap",
    "肥皂": "soap", "浴盐": "bath salt", "精油": "essential oil", "止汗露": "antiperspirant",
    "香体露": "deodorant", "香水": "perfume", "古龙水": "cologne", "淡香水": "perfume",
    "洗发水": "shampoo", "洗发露": "shampoo", "干发喷雾": "dry shampoo", "护发素": "conditioner",
    "发膜": "hair mask", "护发精油": "hair oil", "发油": "hair oil", "发胶": "hair gel",
    "定型喷雾": "hair spray", "染发剂": "hair dye", "吹风机": "hair dryer", "电吹风": "hair dryer",
    "直发器": "hair straightener", "卷发棒": "curling iron", "梳子": "comb", "指甲油": "nail polish",
    "甲油胶": "gel nail polish", "洗甲水": "nail polish remover", "美甲": "nail art",
    "剃须刀": "razor", "剃须膏": "shaving cream", "须后水": "aftershave", "胡须油": "beard oil",
    "牙膏": "toothpaste", "牙刷": "toothbrush", "电动牙刷": "electric toothbrush",
    "化妆刷": "makeup brush", "美妆蛋": "makeup sponge", "化妆包": "makeup bag", "镜子": "mirror",
    "礼盒": "gift set", "套装": "set", "彩妆": "makeup", "化妆品": "makeup", "护肤品": "skin care",
    "运动鞋": "sneakers", "跑鞋": "running shoes", "跑步鞋": "running shoes", "凉鞋": "sandals",
    "拖鞋": "slides", "靴子": "boots", "鞋子": "shoes", "鞋": "shoes", "T恤": "t-shirt", "t恤": "t-shirt",
    "衬衫": "shirt", "卫衣": "hoodie", "外套": "jacket", "夹克": "jacket", "连衣裙": "dress",
    "裙子": "skirt", "牛仔裤": "jeans", "裤子": "pants", "运动裤": "track pants", "短裤": "shorts",
    "打底裤": "leggings", "袜子": "socks", "背包": "backpack", "双肩包": "backpack", "手提包": "handbag",
    "包包": "bag", "包": "bag", "钱包": "wallet", "手表": "watch", "墨镜": "sunglasses",
    "太阳镜": "sunglasses", "帽子": "hat", "围巾": "scarf", "毛衣": "sweater", "项链": "necklace",
    "耳环": "earrings", "手链": "bracelet",
}

# English colour words: a view of the one colour vocabulary (retrieval.facets.COLOURS), with the
# hyphenated spellings of its two-word names ("off-white"); canonical values are the facets' own.
COLORS_EN: dict[str, str] = {
    **{k: v for k, v in COLOURS.items() if k not in COLUMN_ONLY_COLOURS},
    **{k.replace(" ", "-"): v for k, v in COLOURS.items() if " " in k},
}

COLORS_ZH: dict[str, str] = {
    "红色": "red", "正红": "red", "大红": "red", "粉红色": "pink", "粉红": "pink", "粉色": "pink",
    "蓝色": "blue", "藏青": "navy", "深蓝": "navy", "黑色": "black", "白色": "white", "绿色": "green",
    "黄色": "yellow", "紫色": "purple", "橙色": "orange", "橘色": "orange", "棕色": "brown",
    "咖啡色": "brown", "灰色": "grey", "金色": "gold", "银色": "silver", "裸色": "nude",
    "米色": "beige", "酒红色": "burgundy", "酒红": "burgundy", "珊瑚色": "coral", "豆沙色": "rose",
    "玫瑰色": "rose", "梅子色": "plum", "透明": "clear",
}
# One-character colours, recognised only after a negation or before 的/色 ("不要粉的").
COLORS_ZH_SHORT: dict[str, str] = {
    "红": "red", "粉": "pink", "蓝": "blue", "黑": "black", "白": "white", "绿": "green",
    "黄": "yellow", "紫": "purple", "橙": "orange", "棕": "brown", "灰": "grey", "金": "gold",
    "银": "silver",
}

# Attributes a shopper can require (English surface form -> canonical).
ATTRIBUTES_EN: dict[str, str] = {
    "matte": "matte", "matt": "matte", "glossy": "glossy", "shiny": "glossy", "satin": "satin",
    "shimmer": "shimmer", "shimmery": "shimmer", "metallic": "metallic", "sheer": "sheer", "glitter": "glitter",
    "waterproof": "waterproof", "water-proof": "waterproof", "water resistant": "water-resistant",
    "water-resistant": "water-resistant", "sweatproof": "sweat-proof", "sweat-proof": "sweat-proof",
    "smudge-proof": "smudge-proof", "smudgeproof": "smudge-proof", "transfer-proof": "transfer-proof",
    "long-lasting": "long-lasting", "long lasting": "long-lasting", "longlasting": "long-lasting",
    "long-wear": "long-lasting", "long wear": "long-lasting", "24 hour": "long-lasting",
    "vegan": "vegan", "organic": "organic", "natural": "natural", "all-natural": "natural",
    "hypoallergenic": "hypoallergenic", "non-comedogenic": "non-comedogenic",
    "noncomedogenic": "non-comedogenic", "dermatologist tested": "dermatologist-tested",
    "unscented": "unscented", "moisturizing": "moisturizing",
    "moisturising": "moisturizing", "hydrating": "hydrating", "nourishing": "nourishing",
    "anti-aging": "anti-aging", "anti aging": "anti-aging", "antiaging": "anti-aging",
    "anti-wrinkle": "anti-wrinkle", "brightening": "brightening", "whitening": "brightening",
    "firming": "firming", "soothing": "soothing", "gentle": "gentle", "mild": "gentle",
    "lightweight": "lightweight", "light": "lightweight", "oil control": "oil control",
    "mattifying": "mattifying", "volumizing": "volumizing", "volumising": "volumizing",
    "lengthening": "lengthening", "curling": "curling", "repairing": "repairing",
    "anti-dandruff": "anti-dandruff", "dandruff": "anti-dandruff", "color safe": "color-safe",
    "colour safe": "color-safe", "color-safe": "color-safe", "refillable": "refillable",
    "rechargeable": "rechargeable", "cordless": "cordless", "portable": "portable",
    "travel size": "travel size", "travel-size": "travel size", "mini": "mini", "full size": "full size",
    "sensitive skin": "sensitive skin", "dry skin": "dry skin", "oily skin": "oily skin",
    "combination skin": "combination skin", "acne-prone skin": "acne-prone skin",
    "acne prone skin": "acne-prone skin", "mature skin": "mature skin", "curly hair": "curly hair",
    "dry hair": "dry hair", "oily hair": "oily hair", "fine hair": "fine hair",
    "thick hair": "thick hair", "damaged hair": "damaged hair", "color treated hair": "color-treated hair",
    "gray hair": "gray hair", "grey hair": "gray hair", "vitamin c": "vitamin c",
    "hyaluronic acid": "hyaluronic acid", "niacinamide": "niacinamide", "collagen": "collagen",
    "aloe vera": "aloe vera", "argan oil": "argan oil", "tea tree": "tea tree", "coconut": "coconut",
    "shea butter": "shea butter", "vanilla": "vanilla", "floral": "floral", "citrus": "citrus",
    "woody": "woody", "lavender": "lavender", "mint": "mint", "leather": "leather",
    "cotton": "cotton", "wireless": "wireless", "luxury": "luxury", "high-end": "luxury",
    "designer": "designer", "refill": "refill", "liquid": "liquid", "spf": "spf", "neutral": "neutral",
    "all day": "long-lasting", "all-day": "long-lasting", "lasts all day": "long-lasting", "compact": "compact",
    "cream-based": "cream", "pencil": "pencil", "stick": "stick", "spray": "spray", "gel": "gel",
    "powder-based": "powder", "loose": "loose", "pressed": "pressed", "tinted": "tinted",
    "broad spectrum": "broad spectrum", "mineral": "mineral", "reef safe": "reef-safe",
    "reef-safe": "reef-safe", "sport": "sport", "breathable": "breathable",
}

ATTRIBUTES_ZH: dict[str, str] = {
    "亮片": "glitter", "大地色": "earth tone", "哑光": "matte", "雾面": "matte", "丝绒": "velvet", "滋润": "moisturizing", "保湿": "moisturizing",
    "补水": "hydrating", "水润": "hydrating", "防水": "waterproof", "防汗": "sweat-proof",
    "不晕染": "smudge-proof", "持久": "long-lasting", "长效": "long-lasting", "纯素": "vegan",
    "有机": "organic", "天然": "natural", "温和": "gentle", "低敏": "hypoallergenic",
    "抗老": "anti-aging", "抗衰老": "anti-aging", "抗衰": "anti-aging", "抗皱": "anti-wrinkle",
    "美白": "brightening", "提亮": "brightening", "紧致": "firming", "舒缓": "soothing",
    "修护": "repairing", "控油": "oil control", "祛痘": "acne", "去屑": "anti-dandruff",
    "清爽": "lightweight", "轻薄": "lightweight", "敏感肌": "sensitive skin", "敏感皮肤": "sensitive skin",
    "干皮": "dry skin", "干性皮肤": "dry skin", "干性肌肤": "dry skin", "油皮": "oily skin",
    "油性皮肤": "oily skin", "油性肌肤": "oily skin", "混合皮": "combination skin",
    "混油皮": "combination skin", "痘痘肌": "acne-prone skin", "干发": "dry hair", "卷发": "curly hair",
    "烫染": "color-treated hair", "受损发质": "damaged hair", "旅行装": "travel size", "小样": "mini",
    "迷你": "mini", "便携": "portable", "大容量": "large size", "充电": "rechargeable",
    "无线": "cordless", "玻尿酸": "hyaluronic acid", "烟酰胺": "niacinamide", "维C": "vitamin c",
    "维生素C": "vitamin c", "胶原蛋白": "collagen", "芦荟": "aloe vera", "茶树": "tea tree",
    "花香": "floral", "果香": "fruity", "木质": "woody", "薰衣草": "lavender", "香草": "vanilla",
    "奢华": "luxury", "高端": "luxury", "大牌": "luxury", "正品": "authentic", "液体": "liquid",
    "透气": "breathable", "纯棉": "cotton", "真皮": "leather",
}

# Ingredients / things a shopper avoids (Chinese -> English), used after 不要/不含/无.
INGREDIENTS_ZH: dict[str, str] = {
    "酒精": "alcohol", "香精": "fragrance", "香料": "fragrance", "香味": "fragrance", "香": "fragrance",
    "防腐剂": "preservatives", "对羟基苯甲酸酯": "parabens", "尼泊金": "parabens", "硫酸盐": "sulfates",
    "硅油": "silicone", "矿物油": "mineral oil", "色素": "dyes", "动物实验": "animal testing",
    "滑石粉": "talc", "酸": "acids", "油": "oil", "亮片": "glitter", "动物成分": "animal ingredients",
}

# Recipients: surface form -> canonical.
RECIPIENTS_EN: dict[str, str] = {
    "wife": "wife", "husband": "husband", "hubby": "husband", "mom": "mother", "mum": "mother",
    "mother": "mother", "mommy": "mother", "mama": "mother", "dad": "father", "father": "father",
    "daddy": "father", "girlfriend": "girlfriend", "gf": "girlfriend", "boyfriend": "boyfriend",
    "bf": "boyfriend", "sister": "sister", "brother": "brother", "daughter": "daughter", "son": "son",
    "friend": "friend", "best friend": "friend", "bestie": "friend", "boss": "boss",
    "colleague": "colleague", "coworker": "colleague", "co-worker": "colleague",
    "teacher": "teacher", "grandma": "grandmother", "grandmother": "grandmother",
    "granny": "grandmother", "grandpa": "grandfather", "grandfather": "grandfather",
    "aunt": "aunt", "uncle": "uncle", "niece": "niece", "nephew": "nephew", "kid": "kids",
    "kids": "kids", "child": "kids", "children": "kids", "baby": "baby", "toddler": "baby",
    "newborn": "baby", "teen": "teen", "teenager": "teen", "teenage girl": "teen",
    "teenage boy": "teen", "him": "him", "her": "her", "men": "men", "man": "men", "guys": "men",
    "guy": "men", "women": "women", "woman": "women", "ladies": "women", "lady": "women",
    "partner": "partner", "fiance": "partner", "fiancee": "partner", "fiancé": "partner",
    "fiancée": "partner", "boys": "boys", "boy": "boys", "girls": "girls", "girl": "girls",
    "mens": "men", "womens": "women", "unisex": "unisex", "mother-in-law": "mother-in-law", "mom-in-law": "mother-in-law",
    "father-in-law": "father-in-law", "in-laws": "in-laws", "sister-in-law": "sister-in-law",
}

RECIPIENTS_ZH: dict[str, str] = {
    "妈妈": "mother", "母亲": "mother", "老妈": "mother", "妈": "mother", "爸爸": "father",
    "父亲": "father", "老爸": "father", "爸": "father", "老婆": "wife", "妻子": "wife", "太太": "wife",
    "媳妇": "wife", "爱人": "partner", "老公": "husband", "丈夫": "husband", "女朋友": "girlfriend",
    "女友": "girlfriend", "男朋友": "boyfriend", "男友": "boyfriend", "姐姐": "sister", "妹妹": "sister",
    "哥哥": "brother", "弟弟": "brother", "女儿": "daughter", "儿子": "son", "孩子": "kids",
    "小孩": "kids", "宝宝": "baby", "婴儿": "baby", "朋友": "friend", "闺蜜": "friend",
    "同事": "colleague", "老板": "boss", "领导": "boss", "老师": "teacher", "奶奶": "grandmother",
    "外婆": "grandmother", "姥姥": "grandmother", "爷爷": "grandfather", "外公": "grandfather",
    "姥爷": "grandfather", "婆婆": "mother-in-law", "岳母": "mother-in-law", "丈母娘": "mother-in-law",
    "男士": "men", "男生": "men", "男人": "men", "女士": "women", "女生": "women", "女人": "women",
    "青少年": "teen", "儿童": "kids", "男孩": "boys", "女孩": "girls", "男童": "boys", "女童": "girls",
}

OCCASIONS_EN: dict[str, str] = {
    "birthday": "birthday", "bday": "birthday", "b-day": "birthday", "anniversary": "anniversary",
    "christmas": "christmas", "xmas": "christmas", "valentine's day": "valentine's day",
    "valentines day": "valentine's day", "valentine": "valentine's day", "valentines": "valentine's day",
    "valentine's": "valentine's day", "mother's day": "mother's day", "mothers day": "mother's day",
    "father's day": "father's day", "fathers day": "father's day", "wedding": "wedding",
    "graduation": "graduation", "date night": "date", "first date": "date", "date": "date",
    "party": "party", "prom": "prom", "holidays": "holiday", "holiday": "holiday",
    "vacation": "travel", "travel": "travel", "traveling": "travel", "travelling": "travel",
    "trip": "travel", "beach": "beach", "summer": "summer", "winter": "winter", "office": "work",
    "work": "work", "gym": "gym", "workout": "gym", "everyday": "everyday", "daily use": "everyday",
    "every day": "everyday", "new year": "new year", "new year's": "new year",
    "chinese new year": "chinese new year", "lunar new year": "chinese new year",
    "halloween": "halloween", "thanksgiving": "thanksgiving", "baby shower": "baby shower",
    "housewarming": "housewarming", "retirement": "retirement", "job interview": "interview",
    "interview": "interview", "festival": "festival", "concert": "concert",
    "secret santa": "christmas",
}

OCCASIONS_ZH: dict[str, str] = {
    "生日": "birthday", "纪念日": "anniversary", "圣诞节": "christmas", "圣诞": "christmas",
    "情人节": "valentine's day", "七夕": "valentine's day", "母亲节": "mother's day",
    "父亲节": "father's day", "婚礼": "wedding", "结婚": "wedding", "毕业": "graduation",
    "约会": "date", "派对": "party", "聚会": "party", "旅行": "travel", "旅游": "travel",
    "出差": "travel", "度假": "travel", "海边": "beach", "夏天": "summer", "夏季": "summer",
    "冬天": "winter", "冬季": "winter", "上班": "work", "通勤": "work", "办公室": "work",
    "健身": "gym", "日常": "everyday", "春节": "chinese new year", "过年": "chinese new year",
    "新年": "new year", "面试": "interview", "中秋": "mid-autumn festival", "万圣节": "halloween",
}

# A few well-known brands; the Engine can pass the catalog's own brand list to parse_rules.
BRANDS: dict[str, str] = {
    "maybelline": "Maybelline", "l'oreal": "L'Oreal", "loreal": "L'Oreal", "l'oréal": "L'Oreal",
    "revlon": "Revlon", "nyx": "NYX", "mac": "MAC", "m.a.c": "MAC", "clinique": "Clinique",
    "estee lauder": "Estee Lauder", "estée lauder": "Estee Lauder", "lancome": "Lancome",
    "lancôme": "Lancome", "chanel": "Chanel", "dior": "Dior", "ysl": "YSL",
    "yves saint laurent": "YSL", "shiseido": "Shiseido", "sk-ii": "SK-II", "sk2": "SK-II",
    "neutrogena": "Neutrogena", "cerave": "CeraVe", "la roche-posay": "La Roche-Posay",
    "la roche posay": "La Roche-Posay", "olay": "Olay", "nivea": "Nivea", "dove": "Dove",
    "garnier": "Garnier", "aveeno": "Aveeno", "cetaphil": "Cetaphil", "the ordinary": "The Ordinary",
    "burt's bees": "Burt's Bees", "burts bees": "Burt's Bees", "opi": "OPI", "essie": "Essie",
    "sally hansen": "Sally Hansen", "pantene": "Pantene", "head & shoulders": "Head & Shoulders",
    "head and shoulders": "Head & Shoulders", "tresemme": "TRESemme", "tresemmé": "TRESemme",
    "dyson": "Dyson", "conair": "Conair", "remington": "Remington", "philips": "Philips",
    "braun": "Braun", "gillette": "Gillette", "covergirl": "CoverGirl", "urban decay": "Urban Decay",
    "benefit": "Benefit", "fenty": "Fenty Beauty", "fenty beauty": "Fenty Beauty", "nars": "NARS",
    "bobbi brown": "Bobbi Brown", "too faced": "Too Faced", "tarte": "Tarte", "elf": "e.l.f.",
    "e.l.f.": "e.l.f.", "e.l.f": "e.l.f.", "milani": "Milani", "rimmel": "Rimmel", "bioderma": "Bioderma",
    "kiehl's": "Kiehl's", "kiehls": "Kiehl's", "origins": "Origins", "lush": "Lush",
    "the body shop": "The Body Shop", "bath & body works": "Bath & Body Works", "skin79": "SKIN79",
    "adidas": "adidas", "nike": "Nike", "puma": "Puma", "reebok": "Reebok",
}

BRANDS_ZH: dict[str, str] = {
    "兰蔻": "Lancome", "雅诗兰黛": "Estee Lauder", "迪奥": "Dior", "香奈儿": "Chanel",
    "欧莱雅": "L'Oreal", "美宝莲": "Maybelline", "资生堂": "Shiseido", "倩碧": "Clinique",
    "魅可": "MAC", "圣罗兰": "YSL", "阿玛尼": "Armani", "娇兰": "Guerlain", "海蓝之谜": "La Mer",
    "科颜氏": "Kiehl's", "理肤泉": "La Roche-Posay", "薇诺娜": "Winona", "完美日记": "Perfect Diary",
    "花西子": "Florasis", "妮维雅": "Nivea", "多芬": "Dove", "玉兰油": "Olay", "潘婷": "Pantene",
    "海飞丝": "Head & Shoulders", "飞利浦": "Philips", "戴森": "Dyson", "阿迪达斯": "adidas",
    "耐克": "Nike", "彪马": "Puma", "露华浓": "Revlon", "丝芙兰": "Sephora", "雅漾": "Avene",
    "珀莱雅": "Proya", "百雀羚": "Pechoin", "自然堂": "Chando",
}

# Currency words / symbols -> ISO 4217.
CURRENCIES: dict[str, str] = {
    "$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP",
    "pound": "GBP", "pounds": "GBP", "quid": "GBP", "¥": "CNY", "￥": "CNY", "yuan": "CNY",
    "rmb": "CNY", "cny": "CNY", "元": "CNY", "块": "CNY", "块钱": "CNY", "人民币": "CNY",
    "₹": "INR", "inr": "INR", "rs": "INR", "rs.": "INR", "rupee": "INR", "rupees": "INR",
    "yen": "JPY", "jpy": "JPY", "円": "JPY", "美元": "USD", "美金": "USD", "欧元": "EUR", "英镑": "GBP",
    "卢比": "INR",
}
