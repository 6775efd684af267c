"""Vietnamese text for the demo sites: sentence templates and the slots that fill them.

Everything here is hand-written fiction in the register of Vietnamese regional
economic news (industrial parks, FDI, exports, budget, agriculture,
infrastructure, banking, business support). Company and person names are
invented. An article is drawn from a seeded :class:`random.Random`, so the same
seed always gives the same text, and the numbers drawn for every sentence make
each body different.

``make_head`` draws what feeds and listings need (title, lead, caption,
authors, tags and the fixed entities of the story); ``make_body`` draws the
paragraphs from the same entities with a second generator.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import datetime

# --------------------------------------------------------------------------- entities

BD_PLACES = ("Thủ Dầu Một", "Dĩ An", "Thuận An", "Bến Cát", "Tân Uyên", "Bàu Bàng",
             "Bắc Tân Uyên", "Phú Giáo", "Dầu Tiếng")
PROVINCES = ("Đồng Nai", "Bà Rịa - Vũng Tàu", "Long An", "Tây Ninh", "Bắc Ninh", "Bắc Giang",
             "Hải Phòng", "Quảng Ninh", "Thái Nguyên", "Đà Nẵng", "Quảng Nam", "Cần Thơ",
             "Nghệ An", "Thanh Hóa", "Khánh Hòa", "Bình Phước", "Vĩnh Phúc", "Hưng Yên", "Bình Dương")
BD_KCN = ("VSIP I", "VSIP II", "Mỹ Phước 3", "Bàu Bàng", "Đồng An 2", "Sóng Thần 2", "Nam Tân Uyên",
          "Việt Hương 2", "Tân Đông Hiệp B", "Rạch Bắp", "Kim Huy", "Đất Cuốc")
VN_KCN = ("Nhơn Trạch 3", "Phú Mỹ 3", "Quế Võ", "Yên Phong", "Đình Vũ", "Long Hậu", "Hòa Khánh",
          "Phước Đông", "Tràng Duệ", "Sông Công 2", "VSIP Nghệ An", "Điện Nam - Điện Ngọc")
COMPANIES = ("Công ty TNHH Gỗ nội thất Tân Thành", "Công ty CP May mặc Phước Lộc", "Công ty TNHH Điện tử Minh Quang",
             "Công ty CP Cao su Hòa Lợi", "Công ty TNHH Bao bì Sao Mai", "Công ty CP Thực phẩm Đông Phú",
             "Công ty TNHH Cơ khí Bình An", "Công ty CP Giày da Thịnh Hưng", "Công ty TNHH Nhựa kỹ thuật Việt Tín",
             "Công ty CP Logistics Sông Bé", "Công ty TNHH Dược phẩm An Khang", "Công ty CP Thép Hòa Thuận")
INVESTORS = ("một tập đoàn điện tử Hàn Quốc", "nhà đầu tư Singapore", "một doanh nghiệp Nhật Bản",
             "một tập đoàn sản xuất linh kiện Đài Loan (Trung Quốc)", "nhà đầu tư đến từ Hồng Kông (Trung Quốc)",
             "một công ty năng lượng của Đức", "một tập đoàn dệt may Trung Quốc", "nhà đầu tư Hà Lan")
OFFICIALS = (("ông Nguyễn Văn Lộc, Phó Chủ tịch UBND tỉnh", "ông Lộc"),
             ("bà Trần Thị Mai Hương, Giám đốc Sở Công Thương", "bà Hương"),
             ("ông Lê Minh Khoa, Trưởng Ban Quản lý các KCN", "ông Khoa"),
             ("ông Phạm Quốc Bảo, Giám đốc Sở Tài chính", "ông Bảo"),
             ("bà Võ Ngọc Thảo, Phó Giám đốc Sở Nông nghiệp và Môi trường", "bà Thảo"),
             ("ông Huỳnh Tấn Phát, Giám đốc Sở Xây dựng", "ông Phát"),
             ("ông Đặng Hữu Tài, Giám đốc Ngân hàng Nhà nước chi nhánh khu vực", "ông Tài"),
             ("bà Lý Thu Trang, Chủ tịch Hiệp hội Doanh nghiệp tỉnh", "bà Trang"))
MARKETS = ("Hoa Kỳ", "Liên minh châu Âu (EU)", "Nhật Bản", "Hàn Quốc", "Trung Quốc", "các nước ASEAN",
           "Canada", "Australia")
PRODUCTS = ("đồ gỗ", "dệt may", "giày dép", "linh kiện điện tử", "sản phẩm cao su", "hạt điều",
            "sắt thép", "máy móc thiết bị", "sản phẩm nhựa")
CROPS = ("cao su", "hồ tiêu", "bưởi", "sầu riêng", "măng cụt", "rau an toàn", "heo thịt", "gà thả vườn", "cà phê")
PROJECTS = ("đường Vành đai 3", "đường Vành đai 4", "cao tốc TP.HCM - Thủ Dầu Một - Chơn Thành",
            "cảng An Sơn", "tuyến đường ĐT.746", "tuyến đường ĐT.741", "nút giao Sóng Thần",
            "cầu Bạch Đằng 2", "trục Mỹ Phước - Tân Vạn")
BANKS = ("Ngân hàng TMCP Phương Nam Á", "Ngân hàng TMCP Đông Sài Gòn", "Ngân hàng Nông nghiệp chi nhánh tỉnh",
         "Ngân hàng TMCP Sông Hậu", "Ngân hàng Chính sách xã hội chi nhánh tỉnh")
AUTHORS = ("Minh Hòa", "Thanh Tâm", "Quang Tám", "Phương Lê", "Ngọc Thạch", "Hồng Phúc", "Thu Thảo",
           "Hoàng Linh", "Đức Trung", "Kim Hà", "Bảo Ngọc", "Văn Dũng", "Hải Yến", "Tuấn Anh", "Diệp Chi",
           "Lan Anh", "Trọng Nghĩa", "Thùy Dương", "Minh Quân", "Khánh Vy")

# --------------------------------------------------------------------------- topics
# Each topic: titles, leads, captions, sentences, tags. Slots are str.format names.

TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "kcn": dict(
        titles=("{where}: Các khu công nghiệp thu hút thêm {usd} vốn đầu tư",
                "KCN {kcn} mở rộng thêm {ha} ha, đón làn sóng dự án công nghệ cao",
                "{where} đẩy nhanh chuyển đổi khu công nghiệp sinh thái",
                "Tỷ lệ lấp đầy các KCN tại {where} đạt {pct}",
                "Khu công nghiệp {kcn} khởi công nhà máy mới của {investor}"),
        leads=("Trong {period}, các khu công nghiệp tại {where} tiếp tục là điểm sáng thu hút đầu tư với nhiều dự án quy mô lớn, công nghệ hiện đại.",
               "Ban Quản lý các KCN cho biết, tỷ lệ lấp đầy tại KCN {kcn} đã vượt {pct}, nhiều nhà đầu tư đang chờ quỹ đất mới.",
               "Việc chuyển đổi mô hình khu công nghiệp theo hướng xanh, tuần hoàn đang được {where} triển khai quyết liệt."),
        captions=("Nhà xưởng hiện đại tại KCN {kcn}.", "Công nhân làm việc trong một nhà máy tại KCN {kcn}.",
                  "Toàn cảnh KCN {kcn} nhìn từ trên cao."),
        sentences=("Tính đến hết {period}, các KCN trên địa bàn đã thu hút {n} dự án với tổng vốn đăng ký {usd}.",
                   "Riêng KCN {kcn} đã cho thuê thêm {ha} ha đất công nghiệp, nâng tỷ lệ lấp đầy lên {pct}.",
                   "Nhiều dự án mới tập trung vào lĩnh vực điện tử, cơ khí chính xác và vật liệu mới.",
                   "Ban Quản lý các KCN đã cấp mới {n} giấy chứng nhận đăng ký đầu tư và điều chỉnh tăng vốn cho {n2} dự án.",
                   "Hạ tầng kỹ thuật trong KCN {kcn} được đầu tư đồng bộ, có nhà máy xử lý nước thải công suất {n3} m³/ngày đêm.",
                   "Theo {official}, tỉnh ưu tiên các dự án công nghệ cao, ít thâm dụng lao động và thân thiện môi trường.",
                   "“Chúng tôi không chạy theo số lượng mà chọn lọc những nhà đầu tư mang lại giá trị gia tăng cao”, {official_short} nhấn mạnh.",
                   "Giá thuê đất bình quân trong các KCN hiện ở mức {rent} USD/m² cho cả chu kỳ thuê.",
                   "Các doanh nghiệp trong KCN đang sử dụng khoảng {workers} lao động, phần lớn là lao động nhập cư.",
                   "Chủ đầu tư hạ tầng KCN {kcn} cam kết dành {ha2} ha để xây dựng nhà ở xã hội cho công nhân.",
                   "Nhiều nhà máy đã lắp đặt điện mặt trời mái nhà với tổng công suất khoảng {mw} MWp.",
                   "Một số KCN cũ đang được rà soát để chuyển đổi công năng, di dời các ngành gây ô nhiễm.",
                   "Thời gian giải quyết thủ tục đầu tư trong KCN đã được rút ngắn còn {days} ngày làm việc.",
                   "Doanh thu của các doanh nghiệp trong KCN ước đạt {usd2}, tăng {pct2} so với cùng kỳ."),
        tags=("Khu công nghiệp", "Thu hút đầu tư", "KCN xanh", "Ban Quản lý các KCN", "Hạ tầng công nghiệp"),
    ),
    "fdi": dict(
        titles=("{where} thu hút {usd} vốn FDI trong {period}",
                "Dòng vốn FDI vào {where} tăng {pct} so với cùng kỳ",
                "{investor} rót thêm {usd} vào {where}",
                "Nhà đầu tư nước ngoài tăng vốn mạnh tại {where}",
                "Vốn FDI đăng ký mới tại {where} chủ yếu đến từ {market}"),
        leads=("Tổng vốn đầu tư trực tiếp nước ngoài (FDI) đăng ký vào {where} trong {period} đạt {usd}, tăng {pct} so với cùng kỳ năm trước.",
               "Làn sóng dịch chuyển chuỗi cung ứng tiếp tục mang dòng vốn FDI chất lượng về {where}, nhiều dự án có quy mô trên 100 triệu USD.",
               "Dù kinh tế thế giới còn nhiều biến động, {where} vẫn giữ vững vị trí trong nhóm địa phương dẫn đầu về thu hút FDI."),
        captions=("Dây chuyền sản xuất của một doanh nghiệp FDI tại {where}.", "Lãnh đạo tỉnh trao giấy chứng nhận đầu tư cho nhà đầu tư nước ngoài.",
                  "Nhà máy của {investor} tại KCN {kcn}."),
        sentences=("Trong {period}, {where} có {n} dự án FDI cấp mới với tổng vốn {usd}.",
                   "Bên cạnh đó, {n2} lượt dự án điều chỉnh tăng vốn thêm {usd2}.",
                   "Nhà đầu tư đến từ {market} dẫn đầu về vốn đăng ký, chiếm khoảng {pct} tổng vốn.",
                   "Đáng chú ý, {investor} đã quyết định mở rộng nhà máy tại KCN {kcn} với vốn bổ sung {usd3}.",
                   "Lũy kế đến nay, địa phương có {n3} dự án FDI còn hiệu lực với tổng vốn gần {usd4}.",
                   "Các dự án FDI đóng góp khoảng {pct2} kim ngạch xuất khẩu của tỉnh.",
                   "Theo {official}, tỉnh đang chuyển từ thu hút đầu tư sang chọn lọc đầu tư.",
                   "“Nhà đầu tư quan tâm nhất là nguồn điện ổn định, hạ tầng logistics và nhân lực có kỹ năng”, {official_short} cho biết.",
                   "Tỉnh đã tổ chức {n} đoàn xúc tiến đầu tư tại {market} từ đầu năm.",
                   "Một số dự án lớn đang trong giai đoạn đàm phán, dự kiến được cấp phép trong quý IV.",
                   "Cơ cấu vốn FDI đang dịch chuyển rõ nét sang công nghiệp chế biến, chế tạo công nghệ cao.",
                   "Doanh nghiệp FDI hiện giải quyết việc làm cho hơn {workers} lao động trên địa bàn.",
                   "Tỷ lệ nội địa hóa trong chuỗi cung ứng của khối FDI mới đạt khoảng {pct3}.",
                   "Chính sách thuế tối thiểu toàn cầu khiến nhiều nhà đầu tư cân nhắc lại các ưu đãi phi thuế."),
        tags=("FDI", "Đầu tư nước ngoài", "Xúc tiến đầu tư", "Chuỗi cung ứng", "Vốn đăng ký"),
    ),
    "xuat_khau": dict(
        titles=("Kim ngạch xuất khẩu của {where} đạt {usd} trong {period}",
                "Xuất khẩu {product} sang {market} tăng {pct}",
                "Doanh nghiệp {product} tất bật với đơn hàng cuối năm",
                "{where}: Xuất siêu {usd} sau {period}",
                "Ngành {product} tìm cách giữ thị phần tại {market}"),
        leads=("Kim ngạch xuất khẩu của {where} trong {period} ước đạt {usd}, tăng {pct} so với cùng kỳ, trong đó nhóm hàng {product} tăng mạnh nhất.",
               "Nhiều doanh nghiệp {product} đã có đơn hàng đến hết quý I năm sau nhờ thị trường {market} phục hồi.",
               "Tận dụng các hiệp định thương mại tự do, hàng hóa của {where} tiếp tục mở rộng sang những thị trường khó tính."),
        captions=("Sản xuất {product} xuất khẩu tại {company}.", "Đóng gói hàng {product} xuất đi {market}.",
                  "Container hàng hóa chờ xuất khẩu tại cảng cạn."),
        sentences=("Trong {period}, kim ngạch xuất khẩu ước đạt {usd}, tăng {pct} so với cùng kỳ.",
                   "Nhập khẩu đạt {usd2}, giúp địa phương xuất siêu khoảng {usd3}.",
                   "Nhóm hàng {product} tiếp tục dẫn đầu với tỷ trọng {pct2} tổng kim ngạch.",
                   "Thị trường {market} chiếm tỷ trọng lớn nhất, tiếp theo là các nước ASEAN.",
                   "Đại diện {company} cho biết doanh nghiệp đã ký được đơn hàng trị giá {usd4} cho quý tới.",
                   "Chi phí vận tải biển tăng trở lại khiến biên lợi nhuận của nhiều nhà xuất khẩu bị thu hẹp.",
                   "Các doanh nghiệp đang đẩy mạnh truy xuất nguồn gốc để đáp ứng quy định chống phá rừng của EU.",
                   "Theo {official}, Sở Công Thương đã hỗ trợ {n} doanh nghiệp tham gia hội chợ quốc tế.",
                   "“Đơn hàng có nhưng yêu cầu về xanh hóa sản xuất ngày càng khắt khe”, {official_short} nói.",
                   "Xuất khẩu {product} sang {market} tăng {pct3}, cao nhất trong nhiều năm.",
                   "Một số doanh nghiệp chuyển hướng sang thương mại điện tử xuyên biên giới để tiếp cận khách lẻ.",
                   "Tỷ giá ổn định giúp doanh nghiệp chủ động hơn trong việc chào giá.",
                   "Ngành {product} hiện sử dụng khoảng {workers} lao động, phần lớn là lao động phổ thông."),
        tags=("Xuất khẩu", "Xuất siêu", "Thị trường quốc tế", "Hiệp định thương mại", "Đơn hàng"),
    ),
    "ngan_sach": dict(
        titles=("{where} thu ngân sách đạt {pct} dự toán năm",
                "Thu ngân sách {period} của {where} ước đạt {vnd}",
                "{where} đẩy mạnh giải ngân vốn đầu tư công những tháng cuối năm",
                "Giải ngân đầu tư công tại {where} đạt {pct}",
                "HĐND tỉnh xem xét phân bổ {vnd} vốn đầu tư công năm {next_year}"),
        leads=("Tổng thu ngân sách nhà nước trên địa bàn {where} trong {period} ước đạt {vnd}, bằng {pct} dự toán HĐND tỉnh giao.",
               "Tiến độ giải ngân vốn đầu tư công tại {where} đã có chuyển biến, song vẫn còn nhiều dự án vướng mặt bằng.",
               "Các sở, ngành được yêu cầu rà soát từng dự án, điều chuyển vốn từ nơi chậm sang nơi có khả năng giải ngân tốt."),
        captions=("Người dân làm thủ tục nộp thuế tại bộ phận một cửa.", "Một công trình đầu tư công đang thi công tại {place}.",
                  "Kỳ họp HĐND tỉnh xem xét các nghị quyết về ngân sách."),
        sentences=("Trong {period}, tổng thu ngân sách ước đạt {vnd}, tăng {pct} so với cùng kỳ.",
                   "Thu nội địa chiếm khoảng {pct2}, thu từ hoạt động xuất nhập khẩu đạt {vnd2}.",
                   "Khoản thu từ khu vực doanh nghiệp có vốn đầu tư nước ngoài tiếp tục chiếm tỷ trọng lớn nhất.",
                   "Tổng kế hoạch vốn đầu tư công năm {year} của tỉnh là {vnd3}, đến nay đã giải ngân {pct3}.",
                   "Có {n} dự án giải ngân dưới 30% kế hoạch, chủ yếu do vướng bồi thường, giải phóng mặt bằng.",
                   "Theo {official}, tỉnh sẽ xử lý nghiêm tập thể, cá nhân cố tình làm chậm tiến độ giải ngân.",
                   "“Mỗi đồng vốn giải ngân chậm là một cơ hội tăng trưởng bị bỏ lỡ”, {official_short} khẳng định.",
                   "Cơ quan thuế đã thu hồi được {vnd4} nợ đọng, giảm tỷ lệ nợ thuế xuống dưới mức quy định.",
                   "Chi thường xuyên được kiểm soát chặt chẽ, ưu tiên cho giáo dục, y tế và an sinh xã hội.",
                   "Địa phương dự kiến dành {vnd2} từ nguồn tăng thu để bổ sung cho các công trình giao thông trọng điểm.",
                   "Hóa đơn điện tử khởi tạo từ máy tính tiền đã được {n2} hộ kinh doanh áp dụng.",
                   "Số thu từ tiền sử dụng đất chỉ đạt {pct}, thấp hơn nhiều so với kỳ vọng.",
                   "Nghị quyết về phân cấp nguồn thu giai đoạn mới đang được lấy ý kiến các địa phương."),
        tags=("Ngân sách", "Đầu tư công", "Giải ngân", "Thuế", "HĐND tỉnh"),
    ),
    "nong_nghiep": dict(
        titles=("Nông dân {place} trúng mùa {crop}",
                "{where} phát triển vùng chuyên canh {crop} đạt chuẩn xuất khẩu",
                "Giá {crop} tăng, nông dân {place} phấn khởi",
                "{where} hỗ trợ {n} hộ chuyển đổi sang nông nghiệp công nghệ cao",
                "Mô hình trồng {crop} theo chuẩn VietGAP cho thu nhập {vnd_small} mỗi ha"),
        leads=("Nhờ áp dụng quy trình canh tác an toàn, nhiều hộ trồng {crop} ở {place} có thu nhập cao hơn hẳn so với trước.",
               "{where} đang quy hoạch các vùng nông nghiệp ứng dụng công nghệ cao, gắn với chế biến và tiêu thụ ổn định.",
               "Giá {crop} trên thị trường tăng {pct} so với đầu năm, giúp nông dân có thêm điều kiện tái đầu tư sản xuất."),
        captions=("Nông dân {place} thu hoạch {crop}.", "Vườn {crop} ứng dụng tưới nhỏ giọt tại {place}.",
                  "Cán bộ khuyến nông hướng dẫn kỹ thuật cho nông dân."),
        sentences=("Toàn huyện hiện có khoảng {ha} ha {crop}, trong đó {ha2} ha đạt chứng nhận VietGAP.",
                   "Năng suất bình quân đạt {yield_} tấn/ha, tăng {pct} so với vụ trước.",
                   "Với giá bán hiện nay, mỗi ha {crop} cho lợi nhuận khoảng {vnd_small}.",
                   "Nhiều hợp tác xã đã ký hợp đồng bao tiêu với doanh nghiệp chế biến, giúp đầu ra ổn định.",
                   "Theo {official}, tỉnh đã cấp {n} mã số vùng trồng phục vụ xuất khẩu.",
                   "“Nông dân bây giờ rất chịu khó học hỏi, ghi chép nhật ký sản xuất đầy đủ”, {official_short} chia sẻ.",
                   "Chi phí phân bón và thức ăn chăn nuôi vẫn ở mức cao, chiếm gần một nửa giá thành.",
                   "Dịch bệnh trên đàn vật nuôi được kiểm soát, tổng đàn heo của tỉnh đạt khoảng {n3} con.",
                   "Ngân hàng đã giải ngân {vnd2} cho vay ưu đãi để nông dân đầu tư nhà màng, hệ thống tưới tự động.",
                   "Ông Ba, một nông dân ở {place}, cho biết gia đình thu về hơn {vnd_small} sau vụ thu hoạch.",
                   "Diện tích cao su già cỗi đang được chuyển đổi dần sang cây ăn trái có giá trị cao hơn.",
                   "Ngành nông nghiệp phấn đấu giá trị sản xuất tăng {pct2} trong năm {year}."),
        tags=("Nông nghiệp", "Nông nghiệp công nghệ cao", "VietGAP", "Hợp tác xã", "Nông thôn mới"),
    ),
    "ha_tang": dict(
        titles=("Đẩy nhanh tiến độ dự án {project}",
                "{project} hoàn thành {pct} khối lượng",
                "{where} dành {vnd} cho các công trình giao thông kết nối vùng",
                "Giải phóng mặt bằng {project}: Còn {n} hộ chưa bàn giao",
                "Thông xe kỹ thuật {project} trước thời hạn"),
        leads=("Dự án {project} đang được các nhà thầu tăng ca, bảo đảm tiến độ đề ra, khối lượng hoàn thành đạt khoảng {pct}.",
               "Hạ tầng giao thông kết nối vùng được {where} xác định là động lực để thu hút đầu tư và phát triển đô thị.",
               "Công tác bồi thường, giải phóng mặt bằng tiếp tục là điểm nghẽn của nhiều công trình trọng điểm."),
        captions=("Công nhân thi công trên công trường {project}.", "Một đoạn {project} đang được trải thảm nhựa.",
                  "Máy móc tập kết thi công {project}."),
        sentences=("Dự án {project} có tổng mức đầu tư {vnd}, chiều dài khoảng {km} km.",
                   "Đến nay, khối lượng thi công đạt {pct}, vượt kế hoạch đề ra.",
                   "Chủ đầu tư đã giải ngân được {vnd2}, tương đương {pct2} kế hoạch vốn năm.",
                   "Hiện còn {n} hộ dân chưa đồng ý phương án bồi thường do vướng về giá đất.",
                   "Nguồn cát đắp nền được bổ sung từ các mỏ mới cấp phép, giải quyết tình trạng thiếu vật liệu.",
                   "Theo {official}, tỉnh yêu cầu các nhà thầu thi công “3 ca 4 kíp” trong mùa khô.",
                   "“Không để thiếu vốn, thiếu mặt bằng làm chậm tiến độ công trình”, {official_short} yêu cầu.",
                   "Khi hoàn thành, tuyến đường sẽ rút ngắn thời gian di chuyển từ các KCN ra cảng khoảng {minutes} phút.",
                   "Đơn vị tư vấn giám sát đã kiểm tra {n2} hạng mục, yêu cầu khắc phục một số lỗi kỹ thuật nhỏ.",
                   "Dự án tái định cư phục vụ công trình đã bàn giao {n3} nền đất cho người dân.",
                   "Tỉnh đề xuất Trung ương hỗ trợ thêm {vnd3} để hoàn thiện các nút giao.",
                   "Mưa kéo dài trong tháng qua khiến việc thi công nền đường gặp nhiều khó khăn."),
        tags=("Hạ tầng giao thông", "Đầu tư công", "Giải phóng mặt bằng", "Kết nối vùng", "Công trình trọng điểm"),
    ),
    "ngan_hang": dict(
        titles=("Tín dụng tại {where} tăng {pct} từ đầu năm",
                "Ngân hàng dành {vnd} cho vay ưu đãi doanh nghiệp nhỏ và vừa",
                "Lãi suất cho vay tiếp tục giảm, doanh nghiệp {where} dễ tiếp cận vốn hơn",
                "Dư nợ tín dụng xanh tại {where} vượt {vnd}",
                "{bank} triển khai gói vay {vnd} cho doanh nghiệp xuất khẩu"),
        leads=("Đến hết {period}, tổng dư nợ tín dụng trên địa bàn {where} ước đạt {vnd}, tăng {pct} so với đầu năm.",
               "Mặt bằng lãi suất cho vay tiếp tục giảm nhẹ, giúp doanh nghiệp và người dân thuận lợi hơn trong tiếp cận vốn.",
               "Các tổ chức tín dụng đang đẩy mạnh cho vay các lĩnh vực ưu tiên, đặc biệt là sản xuất kinh doanh và tín dụng xanh."),
        captions=("Giao dịch tại một chi nhánh ngân hàng ở {place}.", "Khách hàng làm thủ tục vay vốn tại {bank}.",
                  "Hội nghị kết nối ngân hàng - doanh nghiệp."),
        sentences=("Tổng nguồn vốn huy động ước đạt {vnd}, tăng {pct} so với đầu năm.",
                   "Dư nợ cho vay đạt {vnd2}, trong đó dư nợ ngắn hạn chiếm khoảng {pct2}.",
                   "Lãi suất cho vay bình quân ở mức {rate}/năm đối với các khoản vay ngắn hạn.",
                   "{bank} đã giải ngân {vnd3} cho {n} doanh nghiệp theo chương trình kết nối ngân hàng - doanh nghiệp.",
                   "Tỷ lệ nợ xấu được kiểm soát ở mức {bad}, thấp hơn bình quân toàn ngành.",
                   "Theo {official}, các tổ chức tín dụng được yêu cầu đơn giản hóa hồ sơ vay vốn.",
                   "“Ngân hàng không thiếu vốn, điều quan trọng là doanh nghiệp có phương án kinh doanh khả thi”, {official_short} cho biết.",
                   "Dư nợ tín dụng xanh đạt {vnd4}, tập trung vào năng lượng tái tạo và xử lý chất thải.",
                   "Thanh toán không dùng tiền mặt tiếp tục tăng, số giao dịch qua mã QR tăng {pct3}.",
                   "Nhiều ngân hàng giảm {rate_cut} điểm phần trăm lãi suất cho khách hàng hiện hữu.",
                   "Chương trình cho vay nhà ở xã hội đã giải ngân cho {n2} khách hàng là công nhân.",
                   "Một số doanh nghiệp phản ánh vẫn khó vay do thiếu tài sản bảo đảm."),
        tags=("Ngân hàng", "Tín dụng", "Lãi suất", "Tín dụng xanh", "Tiếp cận vốn"),
    ),
    "doanh_nghiep": dict(
        titles=("{where} có thêm {n} doanh nghiệp thành lập mới",
                "Doanh nghiệp nhỏ và vừa {where} chuyển đổi số để vượt khó",
                "{company} đầu tư dây chuyền tự động hóa {vnd_small}",
                "Lãnh đạo tỉnh đối thoại với doanh nghiệp: Tháo gỡ {n} kiến nghị",
                "Doanh nghiệp {where} thiếu lao động dịp cuối năm"),
        leads=("Trong {period}, {where} có {n} doanh nghiệp thành lập mới với tổng vốn đăng ký {vnd}, tăng {pct} so với cùng kỳ.",
               "Nhiều doanh nghiệp nhỏ và vừa đã mạnh dạn đầu tư công nghệ, số hóa quy trình để giảm chi phí và giữ đơn hàng.",
               "Tại buổi đối thoại, lãnh đạo tỉnh đã trực tiếp giải đáp các kiến nghị về đất đai, thuế và thủ tục hành chính."),
        captions=("Dây chuyền sản xuất tự động tại {company}.", "Quang cảnh buổi đối thoại giữa lãnh đạo tỉnh và doanh nghiệp.",
                  "Người lao động làm việc tại một doanh nghiệp ở {place}."),
        sentences=("Trong {period}, toàn tỉnh có {n} doanh nghiệp thành lập mới, vốn đăng ký {vnd}.",
                   "Số doanh nghiệp quay trở lại hoạt động là {n2}, tăng {pct} so với cùng kỳ.",
                   "{company} vừa đưa vào vận hành dây chuyền tự động hóa, giúp tăng năng suất khoảng {pct2}.",
                   "Đại diện {company} cho biết doanh nghiệp cần tuyển thêm {n3} lao động trong quý tới.",
                   "Theo {official}, tỉnh đã tiếp nhận {n} kiến nghị của doanh nghiệp và giải quyết dứt điểm phần lớn.",
                   "“Doanh nghiệp cần một môi trường minh bạch, thủ tục nhanh gọn hơn là ưu đãi”, {official_short} nói.",
                   "Chi phí logistics vẫn chiếm khoảng {pct3} giá thành sản phẩm của nhiều doanh nghiệp.",
                   "Hiệp hội doanh nghiệp đề xuất kéo dài thời hạn nộp thuế giá trị gia tăng cho doanh nghiệp nhỏ.",
                   "Nhiều doanh nghiệp đã áp dụng hóa đơn điện tử, chữ ký số và phần mềm quản trị nguồn lực.",
                   "Thu nhập bình quân của người lao động ước đạt {salary} triệu đồng/tháng.",
                   "Chương trình hỗ trợ chuyển đổi số đã tư vấn miễn phí cho {n2} doanh nghiệp nhỏ và vừa.",
                   "Một số doanh nghiệp gỗ và dệt may đã chủ động thưởng giữ chân công nhân dịp cuối năm."),
        tags=("Doanh nghiệp", "Chuyển đổi số", "Môi trường kinh doanh", "Doanh nghiệp nhỏ và vừa", "Lao động"),
    ),
}

GENERIC = (
    "Lãnh đạo tỉnh yêu cầu các sở, ngành theo dõi sát diễn biến thị trường để có giải pháp kịp thời.",
    "Các chỉ tiêu kinh tế - xã hội chủ yếu đều đạt và vượt kế hoạch đề ra.",
    "Công tác cải cách hành chính tiếp tục được đẩy mạnh, nhiều thủ tục đã được giải quyết trực tuyến toàn trình.",
    "Tỉnh sẽ tổ chức sơ kết, đánh giá kết quả thực hiện trước khi nhân rộng mô hình.",
    "Nhiều ý kiến cho rằng cần có cơ chế đặc thù để tháo gỡ vướng mắc kéo dài.",
    "Tốc độ tăng trưởng tổng sản phẩm trên địa bàn (GRDP) ước đạt {pct}.",
    "Chỉ số sản xuất công nghiệp tăng {pct2} so với cùng kỳ năm trước.",
    "Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng ước đạt {vnd}.",
    "Các địa phương được giao chủ động rà soát quỹ đất sạch để kêu gọi đầu tư.",
    "Hội nghị cũng đã thống nhất nhiều giải pháp trọng tâm cho những tháng cuối năm.",
    "Giá xăng dầu, vật liệu xây dựng biến động khiến chi phí đầu vào tăng đáng kể.",
    "Tỉnh đặt mục tiêu thu hút thêm nguồn nhân lực chất lượng cao thông qua hợp tác với các trường đại học.",
    "Công tác phòng cháy, chữa cháy và an toàn lao động tại các cơ sở sản xuất được kiểm tra thường xuyên.",
    "Sở Kế hoạch và Đầu tư đang hoàn thiện báo cáo trình UBND tỉnh trong tháng tới.",
    "Nhiều doanh nghiệp kỳ vọng thị trường sẽ khởi sắc rõ nét hơn vào đầu năm {next_year}.",
    "Chỉ số năng lực cạnh tranh cấp tỉnh (PCI) của địa phương tiếp tục nằm trong nhóm dẫn đầu.",
    "Các ngành chức năng đã thành lập {n} đoàn kiểm tra liên ngành.",
    "Người dân và doanh nghiệp có thể phản ánh vướng mắc qua đường dây nóng của tỉnh.",
    "Kết quả này cho thấy niềm tin của cộng đồng doanh nghiệp đối với môi trường đầu tư của tỉnh.",
    "Dự kiến trong quý tới, tỉnh sẽ khởi công thêm {n2} công trình trọng điểm.",
)

# Rewordings used for the "near" syndicated copies: one phrase of one sentence changes.
REWORDINGS = (("cho biết", "thông tin"), ("nhấn mạnh", "khẳng định"), ("tăng", "tăng thêm"),
              ("đã", "vừa"), ("khoảng", "gần"), ("nhiều", "không ít"))

# --------------------------------------------------------------------------- numbers


def _vn_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _vn_dec(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def _usd(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.randrange(50, 950, 5)} triệu USD"
    return f"{_vn_dec(rng.uniform(1.0, 9.5), 2)} tỷ USD"


_NUMBERS = {
    "pct": lambda r: _vn_dec(r.uniform(3, 25)) + "%",
    "usd": _usd,
    "vnd": lambda r: _vn_int(r.randrange(1200, 68000, 10)) + " tỷ đồng",
    "vnd_small": lambda r: f"{r.randrange(150, 900, 10)} triệu đồng",
    "n": lambda r: str(r.randint(12, 180)),
    "n3": lambda r: _vn_int(r.randrange(400, 9000)),
    "ha": lambda r: _vn_int(r.randrange(40, 1500)),
    "workers": lambda r: _vn_int(r.randrange(20000, 480000, 500)),
    "rent": lambda r: str(r.randint(120, 260)),
    "mw": lambda r: str(r.randint(20, 350)),
    "days": lambda r: str(r.randint(3, 12)),
    "km": lambda r: _vn_dec(r.uniform(4, 75)),
    "minutes": lambda r: str(r.randint(15, 60)),
    "yield_": lambda r: _vn_dec(r.uniform(1.2, 28)),
    "rate": lambda r: _vn_dec(r.uniform(5.2, 9.4)) + "%",
    "rate_cut": lambda r: _vn_dec(r.uniform(0.3, 2.0)),
    "bad": lambda r: _vn_dec(r.uniform(0.6, 1.9), 2) + "%",
    "salary": lambda r: _vn_dec(r.uniform(8.5, 14.5)),
}
for _k in ("pct", "usd", "vnd", "n", "ha"):
    for _i in (2, 3, 4):
        _NUMBERS.setdefault(f"{_k}{_i}", _NUMBERS[_k])
_NUMBERS["n3"] = lambda r: _vn_int(r.randrange(400, 9000))


class _Slots(dict):
    """Fixed entities of a story; numbers are drawn afresh at every use."""

    def __init__(self, rng: random.Random, fixed: dict):
        super().__init__(fixed)
        self.rng = rng

    def __missing__(self, key):
        return _NUMBERS[key](self.rng)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _period(when: datetime) -> str:
    return f"{when.month - 1} tháng năm {when.year}" if when.month > 1 else f"tháng 1/{when.year}"


def make_head(rng: random.Random, topic: str, when: datetime, national: bool) -> dict:
    """Title, lead, caption, authors, tags and the fixed entities of one story."""
    spec = TOPICS[topic]
    official, short = rng.choice(OFFICIALS)
    if national:
        province = rng.choice(PROVINCES)
        where, place, kcn = province, province, rng.choice(VN_KCN + BD_KCN[:3])
    else:
        province, place, kcn = "Bình Dương", rng.choice(BD_PLACES), rng.choice(BD_KCN)
        where = rng.choice(("Bình Dương", "Bình Dương", place))
    fixed = dict(where=where, place=place, province=province, kcn=kcn, company=rng.choice(COMPANIES),
                 investor=rng.choice(INVESTORS), official=official, official_short=short,
                 market=rng.choice(MARKETS), product=rng.choice(PRODUCTS), crop=rng.choice(CROPS),
                 project=rng.choice(PROJECTS), bank=rng.choice(BANKS), period=_period(when),
                 year=str(when.year), next_year=str(when.year + 1))
    slots = _Slots(rng, fixed)
    title = rng.choice(spec["titles"]).format_map(slots)
    title = title[0].upper() + title[1:]
    authors = rng.sample(AUTHORS, 2 if rng.random() < 0.3 else 1)
    return dict(
        title=nfc(title),
        lead=nfc(rng.choice(spec["leads"]).format_map(slots)),
        caption=nfc(rng.choice(spec["captions"]).format_map(slots)),
        authors=authors,
        tags=rng.sample(spec["tags"], rng.randint(2, 4)),
        fixed=fixed,
    )


def make_lead(rng: random.Random, topic: str, fixed: dict) -> str:
    return nfc(rng.choice(TOPICS[topic]["leads"]).format_map(_Slots(rng, fixed)))


def make_body(rng: random.Random, topic: str, fixed: dict) -> list[str]:
    """3-8 paragraphs of 2-4 sentences, no sentence used twice in one article."""
    slots = _Slots(rng, fixed)
    own = list(TOPICS[topic]["sentences"])
    generic = list(GENERIC)
    rng.shuffle(own)
    rng.shuffle(generic)
    paragraphs = []
    for _ in range(rng.randint(3, 8)):
        sentences = []
        for _ in range(rng.randint(2, 4)):
            deck = own if (own and rng.random() < 0.65) or not generic else generic
            sentences.append(deck.pop().format_map(slots))
        paragraphs.append(nfc(" ".join(sentences)))
    return paragraphs


def reword(paragraph: str) -> str:
    """The same paragraph with one phrase of one sentence changed (syndication edits)."""
    for old, new in REWORDINGS:
        if f" {old} " in paragraph:
            return paragraph.replace(f" {old} ", f" {new} ", 1)
    head, dot, tail = paragraph.partition(". ")
    return f"{head}, theo số liệu mới nhất{dot}{tail}" if dot else paragraph.rstrip(".") + ", theo số liệu mới nhất."


def slugify(text: str, limit: int = 80) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    words = "".join(c if c.isalnum() and c.isascii() else " " for c in text).split()
    out = ""
    for w in words:
        if len(out) + len(w) + 1 > limit:
            break
        out = f"{out}-{w}" if out else w
    return out or "bai-viet"
