#include "clonezilla_layout.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.hpp"

namespace revive::ctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kGptDump = R"(label: gpt
label-id: 5B0E3C2A-1111-2222-3333-444455556666
device: /dev/sda
unit: sectors
first-lba: 34
last-lba: 32734
sector-size: 512

/dev/sda1 : start=        2048, size=       16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
/dev/sda2 : start=       20480, size=        4096, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F
)";

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

class ClonezillaLayoutTest : public ::testing::Test {
 protected:
  // A GPT directory: sda1 saved by partclone (split), sda2 (swap) without an image.
  fs::path make_dir() {
    fs::path d = dir_ / "img";
    fs::create_directories(d);
    write(d / "disk", "sda\n");
    write(d / "parts", "sda1\n");
    write(d / "sda-pt.sf", kGptDump);
    std::string gpt(std::size_t{34} * 512, '\0');
    gpt.replace(512, 8, "EFI PART");
    gpt[512 + 32] = static_cast<char>(0xff);  // backup header at LBA 32767: a 16 MiB disk
    gpt[512 + 33] = static_cast<char>(0x7f);
    write(d / "sda-gpt-1st", gpt);
    write(d / "sda-gpt-2nd", std::string(std::size_t{33} * 512, '\0'));
    write(d / "sda1.ext4-ptcl-img.zst.ab", "b");
    write(d / "sda1.ext4-ptcl-img.zst.aa", "a");
    return d;
  }
  test::TempDir dir_;
};

TEST_F(ClonezillaLayoutTest, ReadsDiskSizePartitionsAndSplitPiecesInOrder) {
  const fs::path d = make_dir();
  EXPECT_TRUE(is_clonezilla_dir(d));
  auto l = read_clonezilla_layout(d);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->disk, "sda");
  EXPECT_EQ(l->label, "gpt");
  EXPECT_EQ(l->disk_size, 16u << 20);
  ASSERT_EQ(l->partitions.size(), 2u);
  const auto& root = l->partitions[0];
  EXPECT_EQ(root.name, "sda1");
  EXPECT_EQ(root.start, 2048u * 512);
  EXPECT_EQ(root.size, 16384u * 512);
  EXPECT_EQ(root.filesystem, "ext4");
  EXPECT_EQ(root.compression, "zst");
  ASSERT_EQ(root.image_files.size(), 2u);
  EXPECT_EQ(root.image_files[0].filename(), "sda1.ext4-ptcl-img.zst.aa");
  EXPECT_TRUE(l->partitions[1].image_files.empty());
  ASSERT_EQ(l->notes.size(), 1u);
  EXPECT_NE(l->notes[0].find("sda2: no image"), std::string::npos);
}

TEST_F(ClonezillaLayoutTest, WithoutSectorCopiesTheDumpGivesTheSizeAndSgdiskBackupIsFound) {
  const fs::path d = make_dir();
  fs::remove(d / "sda-gpt-1st");
  fs::remove(d / "sda-gpt-2nd");
  write(d / "sda-gpt.gdisk", "backup");
  auto l = read_clonezilla_layout(d);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->disk_size, (32734u + 34) * 512);  // last-lba + the backup entries and header
  EXPECT_TRUE(l->gpt_first.empty());
  EXPECT_EQ(l->gpt_backup.filename(), "sda-gpt.gdisk");
}

TEST_F(ClonezillaLayoutTest, RefusesWhatItCannotRestoreNamingTheFile) {
  struct Case {
    const char* what;
    std::function<void(const fs::path&)> damage;
    const char* words;
  };
  const Case cases[] = {
      {"two disks", [](const fs::path& d) { write(d / "disk", "sda sdb\n"); },
       "names 2 disks (\"sda sdb\")"},
      {"no dump", [](const fs::path& d) { fs::remove(d / "sda-pt.sf"); }, "sda-pt.sf"},
      {"bad unit",
       [](const fs::path& d) { write(d / "sda-pt.sf", "label: gpt\nunit: cylinders\n"); },
       "sda-pt.sf line 2: unit \"cylinders\""},
      {"bad start",
       [](const fs::path& d) {
         write(d / "sda-pt.sf", "label: gpt\n/dev/sda1 : start=x, size=8\n");
       },
       "sda-pt.sf line 2: start is not a number"},
      {"unknown part", [](const fs::path& d) { write(d / "parts", "sda1 sda7\n"); }, "lists sda7"},
      {"no disk size",
       [](const fs::path& d) {
         fs::remove(d / "sda-gpt-1st");
         write(d / "sda-pt.sf", "label: gpt\n/dev/sda1 : start=2048, size=8\n");
       },
       "the disk's size is in none of sda-gpt-1st, sda-pt.sf (last-lba) or sda-pt.parted"},
      {"ntfsclone image",
       [](const fs::path& d) {
         fs::remove(d / "sda1.ext4-ptcl-img.zst.aa");
         fs::remove(d / "sda1.ext4-ptcl-img.zst.ab");
         write(d / "sda1.ntfs-img.aa", "x");
       },
       "sda1.ntfs-img.aa is not a partclone or dd image"},
      {"beyond the disk",
       [](const fs::path& d) {
         write(d / "sda-pt.sf", std::string(kGptDump) + "/dev/sda3 : start=40000, size=9000\n");
       },
       "sda3 ends beyond the disk"},
  };
  for (const auto& c : cases) {
    fs::remove_all(dir_ / "img");
    const fs::path d = make_dir();
    c.damage(d);
    auto l = read_clonezilla_layout(d);
    ASSERT_FALSE(l) << c.what;
    EXPECT_NE(l.error().message.find(c.words), std::string::npos)
        << c.what << ": " << l.error().message;
  }
}

TEST_F(ClonezillaLayoutTest, TellsFogAndOtherDirectoriesApart) {
  const fs::path fog = dir_ / "fog";
  fs::create_directories(fog);
  EXPECT_FALSE(fog_image_file(fog));
  write(fog / "d1p1.img", "");
  EXPECT_EQ(fog_image_file(fog), "d1p1.img");
  EXPECT_FALSE(is_clonezilla_dir(fog));
}

}  // namespace
}  // namespace revive::ctl
