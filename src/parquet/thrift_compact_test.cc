// Thrift compact protocol and metadata structures: round trips, unknown fields, hostile input.

#include "parquet/thrift_compact.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "parquet/metadata.h"

namespace lf::parquet {
namespace {

using ::testing::HasSubstr;

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(CompactTest, ScalarsRoundTrip) {
  std::string buf;
  CompactWriter w(&buf);
  w.StructBegin();
  w.FieldI32(1, -1);
  w.FieldI64(2, INT64_MIN);
  w.FieldBinary(20, "hello");  // delta > 15: long form header
  w.FieldBool(21, true);
  w.FieldBegin(22, CType::kDouble);
  w.Double(2.5);
  w.StructEnd();
  // Known bytes: field 1 i32 -1 -> header 0x15, zigzag(-1) = 1.
  EXPECT_EQ(static_cast<uint8_t>(buf[0]), 0x15);
  EXPECT_EQ(static_cast<uint8_t>(buf[1]), 0x01);

  CompactReader r(U8(buf), buf.size());
  ASSERT_TRUE(r.StructBegin().ok());
  FieldHeader h;
  int32_t i32;
  int64_t i64;
  std::string s;
  double d;
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  EXPECT_EQ(h.id, 1);
  ASSERT_TRUE(r.ReadI32(&i32).ok());
  EXPECT_EQ(i32, -1);
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  ASSERT_TRUE(r.ReadI64(&i64).ok());
  EXPECT_EQ(i64, INT64_MIN);
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  EXPECT_EQ(h.id, 20);
  ASSERT_TRUE(r.ReadBinary(&s).ok());
  EXPECT_EQ(s, "hello");
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  EXPECT_EQ(h.id, 21);
  EXPECT_TRUE(h.bool_value);
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  ASSERT_TRUE(r.ReadDouble(&d).ok());
  EXPECT_EQ(d, 2.5);
  ASSERT_TRUE(r.ReadFieldHeader(&h).ok());
  EXPECT_EQ(h.type, CType::kStop);
  EXPECT_EQ(r.remaining(), 0u);
}

FileMetaData SampleMetadata() {
  FileMetaData md;
  md.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 2;
  md.schema.push_back(root);
  SchemaElement ts;
  ts.type = Type::kInt64;
  ts.repetition_type = Repetition::kRequired;
  ts.name = "timestamp";
  ts.converted_type = 10;
  ts.logical_type = LogicalType{
      .kind = LogicalType::Kind::kTimestamp, .is_adjusted_to_utc = true, .unit = TimeUnit::kMicros};
  md.schema.push_back(ts);
  SchemaElement s;
  s.type = Type::kByteArray;
  s.repetition_type = Repetition::kOptional;
  s.name = "app";
  s.logical_type = LogicalType{.kind = LogicalType::Kind::kString};
  md.schema.push_back(s);
  md.num_rows = 3;
  RowGroup rg;
  rg.num_rows = 3;
  rg.total_byte_size = 100;
  for (const char* name : {"timestamp", "app"}) {
    ColumnChunk cc;
    ColumnMetaData cm;
    cm.type = Type::kInt64;
    cm.encodings = {Encoding::kPlain, Encoding::kRle};
    cm.path_in_schema = {name};
    cm.codec = Codec::kZstd;
    cm.num_values = 3;
    cm.total_compressed_size = 40;
    cm.total_uncompressed_size = 50;
    cm.data_page_offset = 4;
    cm.dictionary_page_offset = 4;
    cm.statistics.emplace();
    cm.statistics->null_count = 0;
    cm.statistics->max_value = "zz";
    cm.statistics->min_value = "aa";
    cc.meta_data = cm;
    rg.columns.push_back(cc);
  }
  rg.ordinal = 0;
  md.row_groups.push_back(rg);
  md.key_value_metadata.push_back({"k", "v"});
  md.created_by = "test";
  md.column_orders = {1, 1};
  return md;
}

TEST(MetadataTest, FileMetaDataRoundTrip) {
  FileMetaData md = SampleMetadata();
  std::string buf;
  SerializeFileMetaData(md, &buf);
  auto back = ParseFileMetaData(U8(buf), buf.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, md);
}

TEST(MetadataTest, PageHeaderRoundTrip) {
  PageHeader h;
  h.type = PageType::kDataPageV2;
  h.uncompressed_page_size = 1000;
  h.compressed_page_size = 500;
  h.crc = 1234;
  h.data_page_header_v2 =
      DataPageHeaderV2{10, 2, 10, Encoding::kRleDictionary, 5, 0, false, std::nullopt};
  std::string buf;
  SerializePageHeader(h, &buf);
  buf += "trailing page data";
  size_t used = 0;
  auto back = ParsePageHeader(U8(buf), buf.size(), &used);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, h);
  EXPECT_EQ(used, buf.size() - 18);
}

TEST(MetadataTest, SkipsUnknownFields) {
  // A PageHeader with extra fields of every kind (ids 50..55) between known ones.
  std::string buf;
  CompactWriter w(&buf);
  w.StructBegin();
  w.FieldI32(1, 0);
  w.FieldI32(2, 10);
  w.FieldBegin(50, CType::kList);
  w.ListBegin(CType::kStruct, 2);
  for (int i = 0; i < 2; ++i) {
    w.StructBegin();
    w.FieldBinary(1, "x");
    w.StructEnd();
  }
  w.FieldBegin(51, CType::kMap);
  w.Varint(1);
  buf.push_back(
      static_cast<char>((static_cast<int>(CType::kI32) << 4) | static_cast<int>(CType::kBinary)));
  w.I32(7);
  w.Binary("seven");
  w.FieldBool(52, false);
  w.FieldBegin(53, CType::kDouble);
  w.Double(1.0);
  w.FieldI32(3, 10);
  w.FieldBegin(5, CType::kStruct);
  w.StructBegin();
  w.FieldI32(1, 4);
  w.FieldI32(2, 0);
  w.FieldI32(3, 3);
  w.FieldI32(4, 3);
  w.FieldBinary(99, "future field");
  w.StructEnd();
  w.StructEnd();
  size_t used;
  auto h = ParsePageHeader(U8(buf), buf.size(), &used);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->compressed_page_size, 10);
  ASSERT_TRUE(h->data_page_header.has_value());
  EXPECT_EQ(h->data_page_header->num_values, 4);
  EXPECT_EQ(used, buf.size());
}

TEST(MetadataTest, EveryTruncationIsAnError) {
  std::string buf;
  SerializeFileMetaData(SampleMetadata(), &buf);
  for (size_t n = 0; n < buf.size(); ++n) {
    auto md = ParseFileMetaData(U8(buf), n);
    EXPECT_FALSE(md.ok()) << "prefix of " << n << " bytes parsed";
  }
}

TEST(MetadataTest, MissingRequiredFieldIsNamed) {
  std::string buf;
  CompactWriter w(&buf);
  w.StructBegin();
  w.FieldI32(1, 1);
  w.StructEnd();
  auto md = ParseFileMetaData(U8(buf), buf.size());
  ASSERT_FALSE(md.ok());
  EXPECT_THAT(std::string(md.status().message()), HasSubstr("missing required field schema"));
}

TEST(MetadataTest, HostileInputIsRejected) {
  // Deep nesting: field 60 of struct type, 1000 levels.
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "\x0c\x78";  // long-form header: type struct, id 60
  auto md = ParseFileMetaData(U8(deep), deep.size());
  ASSERT_FALSE(md.ok());
  EXPECT_THAT(std::string(md.status().message()), HasSubstr("nested deeper"));

  // A list header claiming 2^32-1 elements in a few bytes.
  std::string huge = "\x19\xfc\xff\xff\xff\x0f";  // field 1 list of structs, size varint
  huge[0] = static_cast<char>((2 << 4) | static_cast<int>(CType::kList));  // field 2 (schema)
  md = ParseFileMetaData(U8(huge), huge.size());
  ASSERT_FALSE(md.ok());
  EXPECT_THAT(std::string(md.status().message()), HasSubstr("elements but only"));

  // A binary claiming more bytes than remain.
  std::string bin = "\x68\xff\xff\x03";  // field 6 (created_by) binary, length 65535
  md = ParseFileMetaData(U8(bin), bin.size());
  ASSERT_FALSE(md.ok());
  EXPECT_EQ(md.status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace lf::parquet
