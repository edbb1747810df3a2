// Place names: one canonical form for the ways people write a province or a
// city, so that they compare equal. Shared by the server's territories and the
// client's --region filter, so both read a place the same way.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace kehu {

// A region, province or city name in one canonical form, so that the ways people
// write the same place compare equal: 江苏, 江苏省 and Jiangsu are 江苏;
// 广西壮族自治区 is 广西; 香港特别行政区 is 香港; 南京市 and 南京 are 南京; pinyin is
// lowercased without spaces. canonical_region takes "省" or "省/市" (user regions,
// region_covers).
std::string canonical_province(std::string_view name);
// The province of `name` and the city it also names, if any ("江苏省南京市" ->
// {"江苏", "南京"}, "江苏" -> {"江苏", ""}).
std::pair<std::string, std::string> split_province(std::string_view name);
std::string canonical_city(std::string_view name);
std::string canonical_region(std::string_view region);
// A customer's province and city cells, canonical: the city from the province
// cell when it names one ("江苏省南京市"), else from the city cell.
std::pair<std::string, std::string> canonical_place(std::string_view province, std::string_view city);

}  // namespace kehu
