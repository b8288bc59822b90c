// The images, batches and donors pages (issue 16): resumable uploads (domain/image_uploads) into
// a real store in a temp directory (a refused one kept to be imported again), pushes imported as
// their bodies arrive (their own threads, at most Images::kMaxPushes, ended by a stopping server),
// an image a batch uses refused for deletion, a batch's image and recipient profile (checked,
// stored, handed to the provision step), and the batches' counts by grade, over the fake
// repositories.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "domain/catalog_pages.hpp"
#include "domain/image_uploads.hpp"
#include "domain/images.hpp"
#include "domain/recipient_profile.hpp"
#include "domain_fixture.hpp"
#include "temp_dir.hpp"
#include "test_files.hpp"

namespace revive::server {
namespace {

using protocol::StepKind;
using protocol::StepStatus;

std::span<const std::byte> part(const std::vector<std::byte>& all, std::size_t from,
                                std::size_t n) {
  return {all.data() + from, n};
}

// An upload of `n` random bytes begun and sent in one piece: complete, ready to be finished.
Result<UploadStatus> received_upload(ImageUploads& uploads, const std::string& name, std::size_t n,
                                     std::uint64_t seed) {
  const auto bytes = revive::test::random_bytes(n, seed);
  REVIVE_ASSIGN(up, uploads.begin(name, n, false, "alice"));
  return uploads.append(up.id, 0, bytes);
}

// Runs each push's import on a thread of its own, as the server's push pool does; the test runs
// the imports' `done`s (the domain's side) once it has joined their threads.
struct PushThreads {
  std::vector<std::thread> threads;
  std::vector<std::function<void()>> dones;
  std::atomic<int> running{0};

  RunBlocking runner() {
    return [this](std::function<void()> work, std::function<void()> done) {
      ++running;
      threads.emplace_back([this, work = std::move(work)] {
        work();
        --running;
      });
      dones.push_back(std::move(done));
    };
  }
  /// Whether every import has returned within `limit`.
  bool ended_within(std::chrono::milliseconds limit) const {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (running.load() > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return running.load() == 0;
  }
  void finish() {
    for (auto& t : threads) t.join();
    threads.clear();
    for (auto& d : dones) d();
    dones.clear();
  }
  ~PushThreads() {
    for (auto& t : threads) t.join();
  }
  PushThreads() = default;
  PushThreads(const PushThreads&) = delete;
  PushThreads& operator=(const PushThreads&) = delete;
};

// A push's body as the HTTP layer hands it over: the read end of a pipe; the test writes the
// other end.
struct PushPipe {
  UniqueFd read_end;
  UniqueFd write_end;
  PushPipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  void send(std::span<const std::byte> bytes) const {
    auto sent = write_all(write_end.get(), bytes, "the push's pipe");
    EXPECT_TRUE(sent) << sent.error().message;
  }
};

class CatalogPagesTest : public test::DomainTest {
 protected:
  CatalogPagesTest()
      : store(*ImageStore::open(dir / "store", true)),
        // A finished upload's import runs where the test can see it finish: at once, on this
        // thread.
        images(
            ctx, *store,
            [](const std::function<void()>& work, const std::function<void()>& done) {
              work();
              done();
            },
            pushes.runner()),
        uploads(ctx, images, store->tmp_dir(), limits()) {}
  // A test that stopped early may leave a push reading: it must end while `images`, whose
  // stop flag it reads, still exists.
  ~CatalogPagesTest() override {
    images.stop_stream_imports();
    pushes.finish();
  }

  static UploadLimits limits() {
    UploadLimits l;
    l.max_open = 2;
    l.max_piece = 1 << 20;
    l.idle_s = 600;
    l.free_bytes = [](const std::filesystem::path&) -> Result<std::uint64_t> {
      return std::uint64_t{64} << 20;
    };
    return l;
  }

  std::size_t files_in_tmp() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(store->tmp_dir()))
      ++n;
    return n;
  }

  revive::test::TempDir dir;
  std::unique_ptr<ImageStore> store;
  PushThreads pushes;  // before images, which holds its runner; joined by the destructor
  Images images;
  ImageUploads uploads;
};

TEST_F(CatalogPagesTest, AnUploadInPiecesResumesAtTheServersOffsetAndIsImported) {
  const auto bytes = revive::test::random_bytes(3 << 20, 7);
  auto begun = uploads.begin("donated-disk", bytes.size(), false, "alice");
  ASSERT_TRUE(begun) << begun.error().message;
  const std::string id = begun->id;
  EXPECT_EQ(begun->received, 0u);
  ASSERT_TRUE(uploads.append(id, 0, part(bytes, 0, 1 << 20)));
  // The connection dropped mid-piece; the browser asks how far the server got and goes on.
  auto wrong = uploads.append(id, 2 << 20, part(bytes, 2 << 20, 1 << 20));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::conflict);
  EXPECT_NE(wrong.error().message.find("continues at byte 1048576"), std::string::npos);
  EXPECT_EQ(uploads.status(id)->received, 1u << 20);
  ASSERT_TRUE(uploads.append(id, 1 << 20, part(bytes, 1 << 20, 1 << 20)));
  // Not complete yet: finishing is refused and the upload stays.
  auto early = uploads.finish(id, {}, [](std::uint64_t) {});
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, Errc::conflict);
  // A piece past the announced size, or larger than a piece may be, is refused.
  const auto extra = revive::test::random_bytes((1 << 20) + 1, 8);
  EXPECT_EQ(uploads.append(id, 2 << 20, extra).error().code, Errc::invalid_input);
  EXPECT_EQ(uploads.append(id, 2 << 20, {}).error().code, Errc::invalid_input);
  auto last = uploads.append(id, 2 << 20, part(bytes, 2 << 20, 1 << 20));
  ASSERT_TRUE(last);
  EXPECT_EQ(last->received, bytes.size());
  int finished = 0;
  auto job = uploads.finish(id, {}, [&](std::uint64_t) { ++finished; });
  ASSERT_TRUE(job) << job.error().message;
  EXPECT_EQ(finished, 1);
  auto outcome = images.take_job(*job);
  ASSERT_TRUE(outcome && *outcome && **outcome) << (**outcome).error().message;
  EXPECT_EQ((**outcome)->logical_size, bytes.size());
  // The image is in the store with the bytes sent; the upload and its file are gone.
  auto m = store->load("donated-disk");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->logical_size, bytes.size());
  EXPECT_EQ(m->source, "upload:donated-disk");  // not the id its pieces waited under in tmp/
  EXPECT_EQ(uploads.status(id).error().code, Errc::not_found);
  EXPECT_EQ(files_in_tmp(), 0u);
}

TEST_F(CatalogPagesTest, AnUploadRefusedByItsImportStaysToBeImportedAgainWithTheOptionNamed) {
  std::vector<std::byte> qcow2(1 << 20);
  const unsigned char magic[] = {'Q', 'F', 'I', 0xfb};
  for (std::size_t i = 0; i < sizeof magic; ++i) qcow2[i] = std::byte{magic[i]};
  auto up = uploads.begin("vm-disk", qcow2.size(), false, "alice");
  ASSERT_TRUE(up) << up.error().message;
  ASSERT_TRUE(uploads.append(up->id, 0, qcow2));
  auto job = uploads.finish(up->id, {}, [](std::uint64_t) {});
  ASSERT_TRUE(job) << job.error().message;
  auto outcome = images.take_job(*job);
  ASSERT_TRUE(outcome && *outcome);
  ASSERT_FALSE(**outcome);
  const std::string& why = (**outcome).error().message;
  EXPECT_NE(why.find("the upload of vm-disk is a qcow2"), std::string::npos) << why;
  EXPECT_EQ(why.find(".part"), std::string::npos) << why;
  EXPECT_NE(why.find("--raw"), std::string::npos) << why;
  // The bytes stay, complete: the operator need not send them again to take the option.
  auto kept = uploads.status(up->id);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->received, qcow2.size());
  EXPECT_FALSE(kept->importing);
  EXPECT_EQ(files_in_tmp(), 2u);
  auto again = uploads.finish(up->id, {.raw = true}, [](std::uint64_t) {});
  ASSERT_TRUE(again) << again.error().message;
  auto imported = images.take_job(*again);
  ASSERT_TRUE(imported && *imported && **imported) << (**imported).error().message;
  auto m = store->load("vm-disk");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->logical_size, qcow2.size());
  EXPECT_EQ(m->source, "upload:vm-disk");
  // Published: the upload and its files go.
  EXPECT_EQ(uploads.status(up->id).error().code, Errc::not_found);
  EXPECT_EQ(files_in_tmp(), 0u);
}

TEST_F(CatalogPagesTest, AnUploadOfATakenNameIsRefusedBeforeItsFirstByte) {
  auto first = received_upload(uploads, "taken", 1 << 20, 14);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(uploads.finish(first->id, {}, [](std::uint64_t) {}));
  ASSERT_TRUE(store->load("taken"));
  auto again = uploads.begin("taken", 1 << 20, false, "alice");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_NE(again.error().message.find("delete it first"), std::string::npos)
      << again.error().message;
  EXPECT_EQ(files_in_tmp(), 0u);
  // Replacing it is the operator's choice to make.
  EXPECT_TRUE(uploads.begin("taken", 1 << 20, true, "alice"));
}

TEST_F(CatalogPagesTest, AnUploadWhoseBytesGcRemovedIsForgotten) {
  auto up = received_upload(uploads, "swept", 1 << 20, 13);
  ASSERT_TRUE(up) << up.error().message;
  // What `revivectl image gc` does to tmp/ while the server runs.
  std::filesystem::remove(store->tmp_dir() / ("upload-" + up->id + ".part"));
  auto gone = uploads.finish(up->id, {}, [](std::uint64_t) {});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);
  EXPECT_NE(gone.error().message.find("upload again"), std::string::npos) << gone.error().message;
  EXPECT_EQ(uploads.status(up->id).error().code, Errc::not_found);
  EXPECT_EQ(files_in_tmp(), 0u);  // its description went too
}

TEST_F(CatalogPagesTest, AnUploadsImportHoldsItsFileUntilItEnds) {
  // Imports that wait until the test runs them, as a busy blocking pool would.
  std::vector<std::function<void()>> waiting;
  Images later(
      ctx, *store,
      [&waiting](std::function<void()> work, std::function<void()> done) {
        waiting.emplace_back([work = std::move(work), done = std::move(done)] {
          work();
          done();
        });
      },
      pushes.runner());
  ImageUploads slow(ctx, later, store->tmp_dir(), limits());
  auto up = received_upload(slow, "slow-disk", 1 << 20, 12);
  ASSERT_TRUE(up) << up.error().message;
  auto job = slow.finish(up->id, {}, [](std::uint64_t) {});
  ASSERT_TRUE(job) << job.error().message;
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_TRUE(slow.status(up->id)->importing);
  // Neither a second import, nor a cancel, nor a day idle takes the file from under it.
  EXPECT_EQ(slow.finish(up->id, {}, [](std::uint64_t) {}).error().code, Errc::conflict);
  EXPECT_EQ(slow.cancel(up->id).error().code, Errc::conflict);
  now += 2 * limits().idle_s;
  EXPECT_TRUE(slow.status(up->id));
  EXPECT_EQ(files_in_tmp(), 2u);
  waiting.front()();
  auto outcome = later.take_job(*job);
  ASSERT_TRUE(outcome && *outcome && **outcome) << (**outcome).error().message;
  EXPECT_EQ(slow.status(up->id).error().code, Errc::not_found);
  EXPECT_EQ(files_in_tmp(), 0u);
}

TEST_F(CatalogPagesTest, UploadsAreBoundedAndIdleOnesAreDropped) {
  EXPECT_EQ(uploads.begin("../x", 10, false, "a").error().code, Errc::invalid_input);
  EXPECT_EQ(uploads.begin("x", 0, false, "a").error().code, Errc::invalid_input);
  auto too_big = uploads.begin("x", std::uint64_t{65} << 20, false, "a");
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, Errc::no_space);
  EXPECT_NE(too_big.error().message.find("64 MiB free"), std::string::npos);
  auto a = uploads.begin("a", 10, false, "a");
  auto b = uploads.begin("b", 10, false, "a");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(uploads.begin("c", 10, false, "a").error().code, Errc::busy);
  ASSERT_TRUE(uploads.cancel(b->id));
  EXPECT_EQ(files_in_tmp(), 2u);  // a's part and description
  // Untouched for longer than idle_s: dropped (its file too), which frees a place.
  now += 601;
  EXPECT_TRUE(uploads.begin("c", 10, false, "a"));
  EXPECT_EQ(uploads.status(a->id).error().code, Errc::not_found);
  EXPECT_EQ(files_in_tmp(), 2u);  // c's
}

TEST_F(CatalogPagesTest, AServerRestartedMidUploadGoesOnWhereTheLastOneStopped) {
  const auto bytes = revive::test::random_bytes(2 << 20, 11);
  std::string id;
  {
    ImageUploads before(ctx, images, store->tmp_dir(), limits());
    auto up = before.begin("after-restart", bytes.size(), true, "alice");
    ASSERT_TRUE(up);
    id = up->id;
    ASSERT_TRUE(before.append(id, 0, part(bytes, 0, 1 << 20)));
  }
  // What a crash leaves besides: a description nobody can read, and a stray part.
  revive::test::write_at(store->tmp_dir() / "upload-broken.json",
                         revive::test::random_bytes(100, 1), 0);
  revive::test::write_at(store->tmp_dir() / "upload-broken.part",
                         revive::test::random_bytes(100, 2), 0);
  ImageUploads after(ctx, images, store->tmp_dir(), limits());
  auto found = after.recover();
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, 1u);
  EXPECT_FALSE(std::filesystem::exists(store->tmp_dir() / "upload-broken.part"));
  auto s = after.status(id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->received, 1u << 20);
  EXPECT_EQ(s->name, "after-restart");
  ASSERT_TRUE(after.append(id, 1 << 20, part(bytes, 1 << 20, 1 << 20)));
  auto job = after.finish(id, {}, [](std::uint64_t) {});
  ASSERT_TRUE(job);
  auto outcome = images.take_job(*job);
  ASSERT_TRUE(outcome && *outcome && **outcome) << (**outcome).error().message;
  EXPECT_EQ((**outcome)->logical_size, bytes.size());
  EXPECT_EQ(files_in_tmp(), 0u);
}

TEST_F(CatalogPagesTest, PushesImportOnTheirOwnThreadsAndOneTooManyIsRefusedBeforeItsBody) {
  const auto bytes = revive::test::random_bytes(3 << 20, 21);
  std::vector<PushPipe> pipes(Images::kMaxPushes + 1);
  std::vector<std::uint64_t> jobs;
  int finished = 0;
  for (unsigned i = 0; i < Images::kMaxPushes; ++i) {
    auto job = images.start_stream_import(pipes[i].read_end, bytes.size(),
                                          {.name = "pushed-" + std::to_string(i), .who = "alice"},
                                          [&](std::uint64_t) { ++finished; });
    ASSERT_TRUE(job) << job.error().message;
    EXPECT_FALSE(pipes[i].read_end);  // the import reads it now
    jobs.push_back(*job);
  }
  // Both imports wait for their bodies on threads of their own; one more push is refused at
  // once, its body untouched, so that its client hears why instead of stalling.
  auto extra = images.start_stream_import(pipes.back().read_end, bytes.size(),
                                          {.name = "one-too-many", .who = "alice"},
                                          [&](std::uint64_t) { ++finished; });
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error().code, Errc::busy);
  EXPECT_NE(extra.error().message.find("2 image pushes are importing"), std::string::npos)
      << extra.error().message;
  EXPECT_TRUE(pipes.back().read_end);
  // The bodies arrive, the imports publish, and the places are free again.
  for (unsigned i = 0; i < Images::kMaxPushes; ++i) {
    pipes[i].send(bytes);
    pipes[i].write_end.reset();
  }
  pushes.finish();
  EXPECT_EQ(finished, static_cast<int>(Images::kMaxPushes));
  for (std::uint64_t job : jobs) {
    auto outcome = images.take_job(job);
    ASSERT_TRUE(outcome && *outcome && **outcome) << (**outcome).error().message;
    EXPECT_EQ((**outcome)->logical_size, bytes.size());
  }
  EXPECT_TRUE(store->load("pushed-0"));
  auto after = images.start_stream_import(pipes.back().read_end, bytes.size(),
                                          {.name = "one-more", .who = "alice"},
                                          [&](std::uint64_t) { ++finished; });
  ASSERT_TRUE(after) << after.error().message;
  pipes.back().write_end.reset();  // an empty body: the import fails short, publishing nothing
  pushes.finish();
  auto short_outcome = images.take_job(*after);
  ASSERT_TRUE(short_outcome && *short_outcome);
  EXPECT_FALSE(**short_outcome);
  EXPECT_FALSE(store->load("one-more"));
}

TEST_F(CatalogPagesTest, APushsSpaceCheckCountsTheDataItsClientReportsNotTheHoles) {
  // A petabyte disk does not fit this store; one holding a megabyte of data (the rest holes,
  // which are not stored) does.
  constexpr std::uint64_t kLength = std::uint64_t{1} << 50;
  PushPipe whole;
  PushPipe sparse;
  auto refused = images.start_stream_import(
      whole.read_end, kLength, {.name = "whole", .who = "alice"}, [](std::uint64_t) {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::no_space) << refused.error().message;
  EXPECT_TRUE(whole.read_end);
  auto job = images.start_stream_import(
      sparse.read_end, kLength, {.name = "mostly-holes", .data_bytes = 1 << 20, .who = "alice"},
      [](std::uint64_t) {});
  ASSERT_TRUE(job) << job.error().message;
  // Asked to try anyway (push --no-space-check), the whole petabyte is not refused either.
  auto tried = images.start_stream_import(whole.read_end, kLength,
                                          {.name = "whole", .check_space = false, .who = "alice"},
                                          [](std::uint64_t) {});
  ASSERT_TRUE(tried) << tried.error().message;
  sparse.write_end.reset();  // the uploads end at once: short, and nothing is published
  whole.write_end.reset();
  pushes.finish();
  for (std::uint64_t j : {*job, *tried}) {
    auto outcome = images.take_job(j);
    ASSERT_TRUE(outcome && *outcome);
    EXPECT_FALSE(**outcome);
  }
  EXPECT_FALSE(store->load("mostly-holes"));
  EXPECT_FALSE(store->load("whole"));
}

TEST_F(CatalogPagesTest, AStoppingServerEndsAPushWaitingForItsBodyAndPublishesNothing) {
  PushPipe pipe;
  const auto bytes = revive::test::random_bytes(1 << 20, 22);
  auto job =
      images.start_stream_import(pipe.read_end, 4 * bytes.size(),
                                 {.name = "half-pushed", .who = "alice"}, [](std::uint64_t) {});
  ASSERT_TRUE(job) << job.error().message;
  pipe.send(bytes);  // a quarter arrives; the connection that would send the rest is not served
  images.stop_stream_imports();
  const bool ended = pushes.ended_within(std::chrono::seconds(5));
  pipe.write_end.reset();  // a push still waiting ends now (short), so the test cannot hang
  EXPECT_TRUE(ended) << "the push went on waiting for its body after the server stopped";
  pushes.finish();
  auto outcome = images.take_job(*job);
  ASSERT_TRUE(outcome && *outcome);
  ASSERT_FALSE(**outcome);
  EXPECT_EQ((**outcome).error().code, Errc::cancelled) << (**outcome).error().message;
  EXPECT_FALSE(store->load("half-pushed"));
  EXPECT_EQ(files_in_tmp(), 0u);
}

TEST_F(CatalogPagesTest, AnImageABatchUsesIsNotDeletedAndTheListNamesTheBatch) {
  constexpr std::size_t kSize = 1 << 20;
  auto up = received_upload(uploads, "desktop-nl", kSize, 9);
  ASSERT_TRUE(up) << up.error().message;
  ASSERT_TRUE(uploads.finish(up->id, {}, [](std::uint64_t) {}));
  ASSERT_TRUE(catalog.create_batch("gent-1", "Stad Gent", std::nullopt, "desktop-nl"));
  auto listed = images.list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]["batches"], Json::array({"gent-1"}));
  EXPECT_EQ((*listed)[0]["logical_size"], kSize);
  auto refused = images.remove("desktop-nl", "alice");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_NE(refused.error().message.find("batch gent-1"), std::string::npos);
  EXPECT_TRUE(store->load("desktop-nl"));
  // Once the batch has no image, it goes.
  BatchUpdate none;
  none.image = std::optional<std::string>();
  ASSERT_TRUE(catalog.update_batch("gent-1", none));
  EXPECT_TRUE(images.remove("desktop-nl", "alice"));
  EXPECT_FALSE(store->load("desktop-nl"));
}

TEST(RecipientProfile, KnownFieldsOnlyWithValuesTheAgentTakes) {
  auto ok = check_recipient_profile({{"hostname", "gent-{serial}"},
                                     {"locale", "nl_BE.UTF-8"},
                                     {"keyboard", "be"},
                                     {"timezone", "Europe/Brussels"},
                                     {"welcome_title", "Welkom"},
                                     {"welcome_text", "Hulp: bel 09 123 45 67\nof mail ons."},
                                     {"windows_timezone", ""}});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_FALSE(ok->contains("windows_timezone"));  // empty: the agent's default
  EXPECT_EQ((*ok)["welcome_text"], "Hulp: bel 09 123 45 67\nof mail ons.");
  const Json bad[] = {Json::array(),
                      {{"wifi", "secret"}},
                      {{"colour", "red"}},
                      {{"locale", 5}},
                      {{"locale", "nl BE"}},
                      {{"timezone", "/etc/passwd"}},
                      {{"timezone", "Europe/../x"}},
                      {{"hostname", "a\"; rm -rf /"}},
                      {{"keyboard", "be\nx"}},
                      {{"hostname", std::string(64, 'a')}}};
  for (const auto& b : bad) {
    SCOPED_TRACE(b.dump());
    auto r = check_recipient_profile(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
  }
  EXPECT_NE(check_recipient_profile({{"wifi", "x"}}).error().message.find("network keys"),
            std::string::npos);
}

// The first user (issue 17): the agent's own check (revive/first_user), so an operator hears of
// `root` or a quote in the full name when saving, not from every laptop's provision step.
TEST(RecipientProfile, TheFirstUserIsCheckedAsTheAgentChecksIt) {
  struct Case {
    Json user;
    std::optional<Json> kept;  ///< what is stored; nullopt: left out
  };
  const Case good[] = {
      {{{"name", "ontvanger"}, {"full_name", "Nieuwe Ontvanger"}},
       Json{{"name", "ontvanger"}, {"full_name", "Nieuwe Ontvanger"}}},
      {{{"name", "gebruiker"}}, Json{{"name", "gebruiker"}}},
      {{{"name", "gebruiker"}, {"full_name", ""}}, Json{{"name", "gebruiker"}}},
      {{{"name", ""}, {"full_name", ""}}, std::nullopt},
      {Json::object(), std::nullopt},
  };
  for (const auto& c : good) {
    SCOPED_TRACE(c.user.dump());
    auto r = check_recipient_profile({{"locale", "nl_BE.UTF-8"}, {"first_user", c.user}});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)["locale"], "nl_BE.UTF-8");
    if (c.kept) {
      EXPECT_EQ((*r)["first_user"], *c.kept);
    } else {
      EXPECT_FALSE(r->contains("first_user"));
    }
  }
  struct Bad {
    Json user;
    const char* field;  ///< the field the refusal names
  };
  const Bad bad[] = {
      {"ontvanger", "\"first_user\""},
      {Json::array({"ontvanger"}), "\"first_user\""},
      {{{"name", "root"}}, "\"first_user.name\""},
      {{{"name", "daemon"}}, "\"first_user.name\""},
      {{{"name", "nobody"}}, "\"first_user.name\""},
      {{{"name", "sudo"}}, "\"first_user.name\""},
      {{{"name", "Jan"}}, "\"first_user.name\""},
      {{{"name", "1jan"}}, "\"first_user.name\""},
      {{{"name", "jan;reboot"}}, "\"first_user.name\""},
      {{{"name", std::string(33, 'j')}}, "\"first_user.name\""},
      {{{"name", 5}}, "\"first_user.name\""},
      {{{"name", ""}, {"full_name", "Jan"}}, "\"first_user.name\""},
      {{{"full_name", "Jan"}}, "\"first_user.name\""},
      {{{"name", "jan"}, {"full_name", 42}}, "\"first_user.full_name\""},
      {{{"name", "jan"}, {"full_name", "Jan 'de' Vries"}}, "\"first_user.full_name\""},
      {{{"name", "jan"}, {"full_name", "Jan:x"}}, "\"first_user.full_name\""},
      {{{"name", "jan"}, {"full_name", "Jan\nVries"}}, "\"first_user.full_name\""},
      {{{"name", "jan"}, {"full_name", std::string(101, 'J')}}, "\"first_user.full_name\""},
      {{{"name", "jan"}, {"password", "geheim"}}, "\"first_user.password\""},
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.user.dump());
    auto r = check_recipient_profile({{"first_user", b.user}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_NE(r.error().message.find(b.field), std::string::npos) << r.error().message;
  }
}

TEST_F(CatalogPagesTest, ABatchsImageMustExistAndItsProfileReachesTheProvisionStep) {
  ASSERT_TRUE(catalog.put_workflow(
      "install", Json::array({{{"kind", "inventory"}}, {{"kind", "provision"}}})));
  ASSERT_TRUE(catalog.create_batch("gent-1", "Stad Gent", "install", std::nullopt));
  BatchUpdate missing;
  missing.image = std::optional<std::string>("no-such-image");
  Catalog checked(ctx, [](const std::string& name) -> Result<bool> { return name == "real"; });
  EXPECT_EQ(checked.update_batch("gent-1", missing).error().code, Errc::not_found);
  EXPECT_EQ(checked.update_batch("nope", BatchUpdate{}).error().code, Errc::not_found);
  BatchUpdate bad;
  bad.profile = Json{{"locale", "nl BE"}};
  EXPECT_EQ(checked.update_batch("gent-1", bad).error().code, Errc::invalid_input);
  BatchUpdate good;
  good.image = std::optional<std::string>("real");
  good.profile = Json{{"locale", "nl_BE.UTF-8"},
                      {"hostname", "gent-{serial}"},
                      {"first_user", {{"name", "ontvanger"}, {"full_name", "Nieuwe Ontvanger"}}}};
  ASSERT_TRUE(checked.update_batch("gent-1", good));
  auto row = storage.batches().find("gent-1");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->image, "real");

  const std::int64_t dev = enrol("SN01");
  ASSERT_TRUE(catalog.assign_device(dev, "gent-1", std::nullopt));
  auto step = advance_to(dev, StepKind::provision);
  EXPECT_EQ(step.params["profile"],
            (Json{{"locale", "nl_BE.UTF-8"},
                  {"hostname", "gent-{serial}"},
                  {"first_user", {{"name", "ontvanger"}, {"full_name", "Nieuwe Ontvanger"}}}}));
  // An empty profile clears it.
  BatchUpdate clear;
  clear.profile = Json::object();
  ASSERT_TRUE(checked.update_batch("gent-1", clear));
  EXPECT_FALSE((*storage.batches().find("gent-1"))->profile);
}

TEST(GradesByBatch, CountsEachGradeOfEachBatch) {
  const Json summaries = Json::array({{{"batch", "gent-1"}, {"grade", "A"}},
                                      {{"batch", "gent-1"}, {"grade", "A"}},
                                      {{"batch", "gent-1"}, {"grade", nullptr}},
                                      {{"batch", "gent-1"}, {"grade", "Z"}},
                                      {{"batch", "brugge"}, {"grade", "reject"}},
                                      {{"batch", nullptr}, {"grade", "B"}}});
  auto g = grades_by_batch(summaries);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g["gent-1"], (Json{{"A", 2}, {"B", 0}, {"C", 0}, {"reject", 0}, {"none", 2}}));
  EXPECT_EQ(g["brugge"]["reject"], 1);
  EXPECT_TRUE(grades_by_batch(Json("junk")).empty());
}

TEST_F(CatalogPagesTest, TheBatchesPageCountsGradedLaptops) {
  ASSERT_TRUE(catalog.create_batch("gent-1", "Stad Gent", std::nullopt, std::nullopt));
  ASSERT_TRUE(catalog.create_batch("empty", "Nobody", std::nullopt, std::nullopt));
  const std::int64_t dev = enrol("SN02");
  ASSERT_TRUE(catalog.assign_device(dev, "gent-1", std::nullopt));
  auto test_step = advance_to(dev, StepKind::test);
  ASSERT_TRUE(result(dev, test_step, StepStatus::ok, {{"grading", {{"grade", "B"}}}}));
  CatalogPages pages(catalog, views);
  auto out = pages.batches();
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0]["name"], "gent-1");
  EXPECT_EQ((*out)[0]["donor"], "Stad Gent");
  EXPECT_EQ((*out)[0]["devices"], 1);
  EXPECT_EQ((*out)[0]["grades"]["B"], 1);
  EXPECT_EQ((*out)[0]["profile"], Json::object());
  EXPECT_EQ((*out)[1]["grades"]["none"], 0);
}

}  // namespace
}  // namespace revive::server
