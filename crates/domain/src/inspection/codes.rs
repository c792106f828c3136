//! Names of the code tables a record uses (domain-rules §2.2, §2.3): the manual inspection items
//! (外检项目) of GB 38900 and the photo types (照片种类) of the supervision interface, for showing
//! a record to its reviewer.

/// Manual inspection items by code.
const ITEMS: &[(&str, &str)] = &[
    ("01", "号牌号码/车辆类型"),
    ("02", "品牌/型号"),
    ("03", "车辆识别代号"),
    ("04", "发动机/电动机号码"),
    ("05", "颜色和形状"),
    ("06", "外廓尺寸"),
    ("16", "车身外观"),
    ("17", "外观标识、标注和标牌"),
    ("18", "外部照明和信号灯具"),
    ("19", "轮胎"),
    ("20", "号牌及安装"),
    ("22", "汽车安全带"),
    ("23", "三角警告牌"),
    ("24", "灭火器"),
    ("41", "转向系"),
    ("42", "传动系"),
    ("43", "制动系"),
    ("44", "仪表和指示器"),
    ("80", "联网查询"),
];

/// Photo types by code.
const PHOTOS: &[(&str, &str)] = &[
    ("0111", "车辆左前方斜视45°"),
    ("0112", "车辆右后方斜视45°"),
    ("0113", "车辆识别代号"),
    ("0157", "驾驶人座椅安全带"),
    ("0158", "车辆正后方"),
    ("0167", "车辆正前方"),
    ("0201", "行驶证"),
    ("0203", "交强险凭证"),
    ("0204", "安全技术检验报告"),
    ("0321", "左灯光工位"),
    ("0322", "一轴制动工位"),
    ("0323", "底盘检验"),
    ("0348", "二轴制动工位"),
    ("0351", "驻车制动工位"),
];

/// The name of a manual item, or `None` for a code not in the table.
pub fn item_name(code: &str) -> Option<&'static str> {
    ITEMS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The name of a photo type, or `None` for a code not in the table.
pub fn photo_name(code: &str) -> Option<&'static str> {
    PHOTOS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_named() {
        for table in [ITEMS, PHOTOS] {
            let mut codes: Vec<&str> = table.iter().map(|(c, _)| *c).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), table.len());
        }
        assert_eq!(item_name("43"), Some("制动系"));
        assert_eq!(photo_name("0203"), Some("交强险凭证"));
        assert_eq!(photo_name("9999"), None);
    }
}
