#include "serve/assets.h"

#include <string>

#include "gtest/gtest.h"

namespace lf::serve {
namespace {

const EmbeddedFile kFiles[] = {
    {"/index.html", "text/html", "<html>"},
    {"/app.js", "text/javascript", "js"},
    {"/img/logo.svg", "image/svg+xml", "<svg/>"},
};

const EmbeddedFile* Find(std::string_view p) { return FindAsset(p, kFiles, std::size(kFiles)); }

TEST(AssetsTest, FindsEmbeddedFiles) {
  ASSERT_NE(Find("/"), nullptr);
  EXPECT_EQ(Find("/")->path, "/index.html");
  ASSERT_NE(Find("/app.js"), nullptr);
  EXPECT_EQ(Find("/app.js")->data, "js");
  ASSERT_NE(Find("/img/logo.svg"), nullptr);
  EXPECT_EQ(Find("/missing.js"), nullptr);
}

TEST(AssetsTest, RefusesEverythingOutsideTheRoot) {
  // The server hands FindAsset the percent-decoded path; encoded forms are listed both ways.
  const std::string cases[] = {
      "/../etc/passwd",
      "/..",
      "/./app.js",
      "/img/../app.js",
      "/img/./logo.svg",
      "//app.js",
      "/app.js/",
      "/%2e%2e/etc/passwd",
      "/..%2fetc%2fpasswd",
      "/img%2flogo.svg",
      "/img\\..\\app.js",
      "\\app.js",
      std::string("/app.js\0.png", 12),
      "/app.js%00",
      "/etc/passwd",
      "etc/passwd",
      "app.js",
      "",
      "/proc/self/environ",
      "/index.html?x",
      "/APP.JS",
      "/app.js ",
      "/\napp.js",
      "/img//logo.svg",
      "/" + std::string(300, 'a'),
  };
  for (const std::string& p : cases) {
    EXPECT_EQ(Find(p), nullptr) << "path: " << p;
    if (p.find("..") != std::string::npos) {
      EXPECT_FALSE(IsPlainAssetPath(p)) << p;
    }
  }
  EXPECT_FALSE(IsPlainAssetPath("/a/../b"));
  EXPECT_TRUE(IsPlainAssetPath("/a/b.c-d_e"));
}

TEST(AssetsTest, EmbeddedTableHasTheDashboard) {
  // The real table generated from web/dist at build time.
  const EmbeddedFile* index = FindAsset("/");
  ASSERT_NE(index, nullptr);
  EXPECT_NE(index->data.find("<html"), std::string_view::npos);
  EXPECT_NE(FindAsset("/app.js"), nullptr);
  EXPECT_NE(FindAsset("/app.css"), nullptr);
  for (size_t i = 0; i < kEmbeddedFileCount; ++i)
    EXPECT_TRUE(IsPlainAssetPath(kEmbeddedFiles[i].path));
}

}  // namespace
}  // namespace lf::serve
