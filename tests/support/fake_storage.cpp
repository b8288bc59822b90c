#include "fake_storage.hpp"

#include <algorithm>
#include <cctype>

namespace revive::server::test {

namespace {

template <class Row, class Pred>
std::optional<Row> first_of(const std::vector<Row>& rows, Pred pred) {
  auto it = std::find_if(rows.begin(), rows.end(), pred);
  if (it == rows.end()) return std::nullopt;
  return *it;
}

template <class Row, class Pred>
std::optional<Row> last_of(const std::vector<Row>& rows, Pred pred) {
  auto it = std::find_if(rows.rbegin(), rows.rend(), pred);
  if (it == rows.rend()) return std::nullopt;
  return *it;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Error missing(const std::string& what) { return make_error(Errc::not_found, what); }

struct Settings final : SettingsRepository {
  FakeTables& t;
  explicit Settings(FakeTables& d) : t(d) {}
  Result<std::optional<std::string>> get(const std::string& key) override {
    auto it = t.settings.find(key);
    if (it == t.settings.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Result<void> set(const std::string& key, const std::string& value) override {
    t.settings[key] = value;
    return {};
  }
};

struct Workflows final : WorkflowRepository {
  FakeTables& t;
  explicit Workflows(FakeTables& d) : t(d) {}
  Result<void> put(const std::string& name, const std::vector<WorkflowStep>& steps,
                   Seconds) override {
    for (auto& w : t.workflows) {
      if (w.name == name) {
        w.steps = steps;
        return {};
      }
    }
    t.workflows.push_back({t.next_id++, name, steps});
    return {};
  }
  Result<std::vector<WorkflowRow>> list() override {
    auto out = t.workflows;
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return out;
  }
  Result<std::optional<WorkflowRow>> find(const std::string& name) override {
    return first_of(t.workflows, [&](const WorkflowRow& w) { return w.name == name; });
  }
  Result<std::optional<WorkflowRow>> find(std::int64_t id) override {
    return first_of(t.workflows, [&](const WorkflowRow& w) { return w.id == id; });
  }
};

struct Batches final : BatchRepository {
  FakeTables& t;
  explicit Batches(FakeTables& d) : t(d) {}
  Result<std::int64_t> create(const BatchRow& b, Seconds) override {
    for (const auto& x : t.batches) {
      if (x.name == b.name)
        return make_error(Errc::conflict, "batch \"" + b.name + "\" already exists");
    }
    BatchRow row = b;
    row.id = t.next_id++;
    t.batches.push_back(row);
    return row.id;
  }
  Result<std::vector<BatchRow>> list() override { return t.batches; }
  Result<std::optional<BatchRow>> find(const std::string& name) override {
    return first_of(t.batches, [&](const BatchRow& b) { return b.name == name; });
  }
  Result<std::optional<BatchRow>> find(std::int64_t id) override {
    return first_of(t.batches, [&](const BatchRow& b) { return b.id == id; });
  }
  Result<std::int64_t> device_count(std::int64_t batch_id) override {
    return static_cast<std::int64_t>(std::count_if(
        t.devices.begin(), t.devices.end(), [&](auto& d) { return d.batch_id == batch_id; }));
  }
  Result<void> update(const BatchRow& b) override {
    for (auto& x : t.batches) {
      if (x.id != b.id) continue;
      x.image = b.image;
      x.profile = b.profile;
      x.profile_id = b.profile_id;
      return {};
    }
    return make_error(Errc::not_found, "batch " + std::to_string(b.id) + " does not exist");
  }
};

struct Devices final : DeviceRepository {
  FakeTables& t;
  FakeStorage& owner;
  Devices(FakeTables& d, FakeStorage& o) : t(d), owner(o) {}
  DeviceRow* row(std::int64_t id) {
    for (auto& d : t.devices) {
      if (d.id == id) return &d;
    }
    return nullptr;
  }
  Result<std::int64_t> insert(const NewDevice& n) override {
    DeviceRow d;
    d.id = t.next_id++;
    d.system_uuid = n.system_uuid;
    d.serial = n.serial;
    d.model = n.model;
    d.vendor = n.vendor;
    d.macs = n.macs;
    d.batch_id = n.batch_id;
    d.first_seen = d.last_seen = n.seen_at;
    d.disk_serials = n.disk_serials;
    d.intake_operator = n.intake_operator;
    t.devices.push_back(d);
    if (n.inventory) t.inventories[d.id] = *n.inventory;
    return d.id;
  }
  Result<std::vector<DeviceRow>> identity_candidates(const std::string& m, const std::string& u,
                                                     const std::string& s,
                                                     const Json& disks) override {
    std::vector<DeviceRow> out;
    // Newest first. (Not std::views::reverse: clang 14, which the asan build and clang-tidy
    // use, cannot compile libstdc++ 12's views.)
    for (std::size_t i = t.devices.size(); i-- > 0;) {
      const DeviceRow& d = t.devices[i];
      bool disk = false;
      for (const auto& a : d.disk_serials) {
        for (const auto& b : disks) disk = disk || a == b;
      }
      if (d.model == m &&
          ((!u.empty() && d.system_uuid == u) || (!s.empty() && d.serial == s) || disk))
        out.push_back(d);
    }
    std::stable_sort(out.begin(), out.end(), [](const DeviceRow& a, const DeviceRow& b) {
      return a.last_seen > b.last_seen;
    });
    return out;
  }
  Result<std::optional<DeviceRow>> find(std::int64_t id) override {
    return first_of(t.devices, [&](const DeviceRow& d) { return d.id == id; });
  }
  Result<std::vector<DeviceRow>> find_by_mac(const std::string& mac, int limit) override {
    std::vector<DeviceRow> out;
    for (const auto& d : t.devices) {
      bool has = false;
      for (const auto& m : d.macs) has = has || (m.is_string() && lower(m) == lower(mac));
      if (has) out.push_back(d);
    }
    std::sort(out.begin(), out.end(), [](const DeviceRow& a, const DeviceRow& b) {
      return a.last_seen != b.last_seen ? a.last_seen > b.last_seen : a.id > b.id;
    });
    if (out.size() > static_cast<std::size_t>(limit)) out.resize(static_cast<std::size_t>(limit));
    return out;
  }
  Result<std::vector<std::int64_t>> ids() override {
    std::vector<std::int64_t> out;
    for (const auto& d : t.devices) out.push_back(d.id);
    return out;
  }
  Result<void> record_sighting(std::int64_t id, const Sighting& s) override {
    auto* d = row(id);
    if (!d) return missing("device");
    d->macs = s.macs;
    d->vendor = s.vendor;
    d->last_seen = s.at;
    if (s.disk_serials) d->disk_serials = *s.disk_serials;
    if (s.inventory && !s.inventory->is_null()) t.inventories[id] = *s.inventory;
    return {};
  }
  Result<void> set_flag(std::int64_t id, const std::optional<std::string>& flag) override {
    auto* d = row(id);
    if (!d) return missing("device " + std::to_string(id) + " does not exist");
    d->flag = flag;
    return {};
  }
  Result<void> set_batch(std::int64_t id, std::int64_t batch_id) override {
    auto* d = row(id);
    if (!d) return missing("device " + std::to_string(id) + " does not exist");
    d->batch_id = batch_id;
    return {};
  }
  Result<void> set_workflow(std::int64_t id, std::int64_t workflow_id) override {
    auto* d = row(id);
    if (!d) return missing("device " + std::to_string(id) + " does not exist");
    d->workflow_id = workflow_id;
    return {};
  }
  Result<std::optional<Json>> inventory(std::int64_t id) override {
    if (owner.inventory_error) return *owner.inventory_error;
    auto it = t.inventories.find(id);
    if (it == t.inventories.end()) return std::optional<Json>();
    return std::optional<Json>(it->second);
  }
  Result<std::vector<std::pair<std::optional<RunState>, std::int64_t>>> count_by_run_state()
      override {
    std::map<std::optional<RunState>, std::int64_t> counts;
    for (const auto& d : t.devices) {
      auto run = last_of(t.runs, [&](const RunRow& r) { return r.device_id == d.id; });
      ++counts[run ? std::optional<RunState>(run->state) : std::nullopt];
    }
    return std::vector<std::pair<std::optional<RunState>, std::int64_t>>(counts.begin(),
                                                                         counts.end());
  }
};

struct Runs final : RunRepository {
  FakeTables& t;
  explicit Runs(FakeTables& d) : t(d) {}
  std::int64_t device_of(std::int64_t run_id) {
    auto r = first_of(t.runs, [&](const RunRow& x) { return x.id == run_id; });
    return r ? r->device_id : 0;
  }
  Result<std::int64_t> create(const RunRow& run, const std::vector<WorkflowStep>& steps) override {
    RunRow r = run;
    r.id = t.next_id++;
    t.runs.push_back(r);
    int seq = 0;
    for (const auto& s : steps) {
      StepRow row;
      row.id = t.next_id++;
      row.run_id = r.id;
      row.device_id = r.device_id;
      row.seq = seq++;
      row.kind = s.kind;
      row.params = s.params;
      t.steps.push_back(row);
    }
    return r.id;
  }
  Result<std::optional<RunRow>> latest(std::int64_t device_id) override {
    return last_of(t.runs, [&](const RunRow& r) { return r.device_id == device_id; });
  }
  Result<std::optional<RunRow>> find(std::int64_t run_id) override {
    return first_of(t.runs, [&](const RunRow& r) { return r.id == run_id; });
  }
  Result<void> update(const RunRow& run) override {
    for (auto& r : t.runs) {
      if (r.id == run.id) {
        r.state = run.state;
        r.finished_at = run.finished_at;
        return {};
      }
    }
    return missing("run");
  }
  Result<std::vector<StepRow>> steps(std::int64_t run_id) override {
    std::vector<StepRow> out;
    for (const auto& s : t.steps) {
      if (s.run_id == run_id) out.push_back(s);
    }
    return out;
  }
  Result<std::optional<StepRow>> step(std::int64_t id) override {
    return first_of(t.steps, [&](const StepRow& s) { return s.id == id; });
  }
  Result<std::vector<StepRow>> running_steps() override {
    std::vector<StepRow> out;
    for (const auto& s : t.steps) {
      if (s.state == StepState::running) out.push_back(s);
    }
    return out;
  }
  Result<void> update(const StepRow& step) override {
    for (auto& s : t.steps) {
      if (s.id == step.id) {
        const auto run = s.run_id;
        const auto device = s.device_id;
        const auto kind = s.kind;
        const auto params = s.params;
        s = step;
        s.run_id = run;
        s.device_id = device;
        s.kind = kind;
        s.params = params;
        return {};
      }
    }
    return missing("step");
  }
  Result<std::optional<StepResultRow>> result(std::int64_t step_id, std::int64_t attempt) override {
    return first_of(t.results, [&](const StepResultRow& r) {
      return r.step_id == step_id && r.attempt == attempt;
    });
  }
  Result<void> add_result(const StepResultRow& r) override {
    for (const auto& x : t.results) {
      if (x.step_id == r.step_id && x.attempt == r.attempt)
        return make_error(Errc::conflict, "step has a result already");
    }
    StepResultRow row = r;
    row.id = t.next_id++;
    t.results.push_back(row);
    return {};
  }
  Result<std::vector<StepResultRow>> results(std::int64_t device_id) override {
    std::vector<StepResultRow> out;
    for (const auto& r : t.results) {
      auto s = first_of(t.steps, [&](const StepRow& x) { return x.id == r.step_id; });
      if (s && s->device_id == device_id) out.push_back(r);
    }
    return out;
  }
  Result<std::optional<StepResultRow>> latest_result(std::int64_t device_id, StepKind kind,
                                                     StepStatus status) override {
    REVIVE_TRY(results(device_id));
    auto all = *results(device_id);
    return last_of(all,
                   [&](const StepResultRow& r) { return r.kind == kind && r.status == status; });
  }
};

struct Certificates final : CertificateRepository {
  FakeTables& t;
  explicit Certificates(FakeTables& d) : t(d) {}
  Result<void> add(const CertificateRow& c) override {
    for (const auto& x : t.certificates) {
      if (x.cert_id == c.cert_id || (c.supersedes && x.supersedes == c.supersedes))
        return make_error(Errc::conflict, "certificate exists, or was superseded already");
    }
    t.certificates.push_back(c);
    return {};
  }
  Result<std::optional<CertificateRow>> find(const std::string& id) override {
    return first_of(t.certificates, [&](const CertificateRow& c) { return c.cert_id == id; });
  }
  Result<std::optional<CertificateRow>> superseded_by(const std::string& id) override {
    return first_of(t.certificates, [&](const CertificateRow& c) { return c.supersedes == id; });
  }
  Result<std::vector<CertificateRow>> for_device(std::int64_t device_id) override {
    std::vector<CertificateRow> out;
    for (std::size_t i = t.certificates.size(); i-- > 0;) {  // newest first
      if (t.certificates[i].device_id == device_id) out.push_back(t.certificates[i]);
    }
    return out;
  }
  Result<std::optional<CertificateRow>> newest_for_step(std::int64_t step_id,
                                                        const std::string& kind) override {
    return last_of(t.certificates,
                   [&](const CertificateRow& c) { return c.step_id == step_id && c.kind == kind; });
  }
  Result<std::vector<CertificateRow>> newest_per_device_in_batch(std::int64_t batch_id,
                                                                 const std::string& kind) override {
    std::vector<CertificateRow> out;
    for (const auto& d : t.devices) {
      if (d.batch_id != batch_id) continue;
      auto newest = last_of(t.certificates, [&](const CertificateRow& c) {
        return c.device_id == d.id && c.kind == kind;
      });
      if (newest) out.push_back(*newest);
    }
    return out;
  }
};

struct Events final : EventRepository {
  FakeTables& t;
  explicit Events(FakeTables& d) : t(d) {}
  Result<std::int64_t> append(const EventRow& e) override {
    EventRow row = e;
    row.id = t.next_id++;
    t.events.push_back(row);
    return row.id;
  }
  Result<std::vector<EventRow>> since(std::int64_t after_id, int limit) override {
    std::vector<EventRow> out;
    for (const auto& e : t.events) {
      if (e.id > after_id && static_cast<int>(out.size()) < limit) out.push_back(e);
    }
    return out;
  }
  Result<std::optional<EventRow>> latest(std::int64_t device_id, const std::string& kind) override {
    return last_of(t.events,
                   [&](const EventRow& e) { return e.device_id == device_id && e.kind == kind; });
  }
  Result<std::int64_t> prune(Seconds before, std::int64_t keep, std::int64_t batch) override {
    std::int64_t gone = 0;
    while (!t.events.empty() && gone < batch &&
           (t.events.front().at < before || static_cast<std::int64_t>(t.events.size()) > keep)) {
      t.events.erase(t.events.begin());
      ++gone;
    }
    return gone;
  }
  Result<std::vector<EventRow>> of_device(std::int64_t device_id,
                                          const std::vector<std::string>& kinds,
                                          int limit) override {
    std::vector<EventRow> out;
    for (const auto& e : t.events) {
      if (e.device_id == device_id &&
          std::find(kinds.begin(), kinds.end(), e.kind) != kinds.end() &&
          static_cast<int>(out.size()) < limit)
        out.push_back(e);
    }
    return out;
  }
};

struct Operators final : OperatorRepository {
  FakeTables& t;
  explicit Operators(FakeTables& d) : t(d) {}
  Result<void> put(const std::string& name, const std::string& hash, Seconds) override {
    for (auto& o : t.operators) {
      if (o.name == name) {
        o.password_hash = hash;
        return {};
      }
    }
    t.operators.push_back({t.next_id++, name, hash});
    return {};
  }
  Result<std::optional<OperatorRow>> find(const std::string& name) override {
    return first_of(t.operators, [&](const OperatorRow& o) { return o.name == name; });
  }
  Result<std::int64_t> count() override { return static_cast<std::int64_t>(t.operators.size()); }
  Result<void> add_token(const OperatorTokenRow& tok) override {
    t.operator_tokens.push_back(tok);
    return {};
  }
  Result<std::optional<OperatorTokenOwner>> token_owner(const std::string& hash) override {
    auto tok = first_of(t.operator_tokens,
                        [&](const OperatorTokenRow& x) { return x.token_hash == hash; });
    if (!tok) return std::optional<OperatorTokenOwner>();
    auto op = first_of(t.operators, [&](const OperatorRow& o) { return o.id == tok->operator_id; });
    if (!op) return std::optional<OperatorTokenOwner>();
    return std::optional<OperatorTokenOwner>(
        OperatorTokenOwner{op->name, tok->expires_at, tok->kind});
  }
  Result<std::vector<OperatorTokenInfo>> tokens() override {
    std::vector<OperatorTokenInfo> out;
    for (const auto& tok : t.operator_tokens) {
      auto op =
          first_of(t.operators, [&](const OperatorRow& o) { return o.id == tok.operator_id; });
      out.push_back({tok.token_hash, op ? op->name : "", tok.kind, tok.label, tok.created_at,
                     tok.expires_at});
    }
    return out;
  }
  Result<void> remove_token(const std::string& hash) override {
    if (std::erase_if(t.operator_tokens,
                      [&](const OperatorTokenRow& x) { return x.token_hash == hash; }) == 0)
      return missing("no such operator token");
    return {};
  }
  Result<void> remove_tokens_of(std::int64_t operator_id) override {
    std::erase_if(t.operator_tokens,
                  [&](const OperatorTokenRow& x) { return x.operator_id == operator_id; });
    return {};
  }
  Result<void> remove_expired(Seconds now) override {
    std::erase_if(t.operator_tokens,
                  [&](const OperatorTokenRow& x) { return x.expires_at && *x.expires_at < now; });
    return {};
  }
};

struct Intakes final : IntakeRepository {
  FakeTables& t;
  explicit Intakes(FakeTables& d) : t(d) {}
  Result<std::int64_t> open(const IntakeRow& i) override {
    REVIVE_TRY(close(i.opened_at, i.opened_by));
    IntakeRow row = i;
    row.id = t.next_id++;
    t.intakes.push_back(row);
    return row.id;
  }
  Result<std::optional<IntakeRow>> current() override {
    return last_of(t.intakes, [](const IntakeRow& i) { return !i.closed_at; });
  }
  Result<void> close(Seconds at, const std::string& by) override {
    for (auto& i : t.intakes) {
      if (!i.closed_at) {
        i.closed_at = at;
        i.closed_by = by;
      }
    }
    return {};
  }
};

struct AgentTokens final : AgentTokenRepository {
  FakeTables& t;
  explicit AgentTokens(FakeTables& d) : t(d) {}
  Result<void> revoke_device(std::int64_t device_id) override {
    std::erase_if(t.agent_tokens, [&](const auto& kv) { return kv.second == device_id; });
    return {};
  }
  Result<void> add(const std::string& hash, std::int64_t device_id, Seconds) override {
    t.agent_tokens[hash] = device_id;
    return {};
  }
  Result<std::optional<std::int64_t>> device(const std::string& hash) override {
    auto it = t.agent_tokens.find(hash);
    if (it == t.agent_tokens.end()) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(it->second);
  }
};

struct BootTokens final : BootTokenRepository {
  FakeTables& t;
  explicit BootTokens(FakeTables& d) : t(d) {}
  Result<void> add(const BootTokenRow& row) override {
    t.boot_tokens.push_back(row);
    return {};
  }
  Result<std::optional<BootTokenRow>> find(const std::string& hash) override {
    return first_of(t.boot_tokens, [&](const BootTokenRow& b) { return b.token_hash == hash; });
  }
  Result<void> mark_used(const std::string& hash, Seconds at) override {
    for (auto& b : t.boot_tokens) {
      if (b.token_hash == hash) b.used_at = at;
    }
    return {};
  }
  Result<void> prune(Seconds before, const std::string&, int, int) override {
    std::erase_if(t.boot_tokens, [&](const BootTokenRow& b) { return b.issued_at < before; });
    return {};
  }
};

// ---- partner organisations, hand-overs and loans (issue 16)

struct Organisations final : OrganisationRepository {
  FakeTables& t;
  explicit Organisations(FakeTables& d) : t(d) {}
  bool name_taken(const OrganisationRow& o) const {
    return std::any_of(t.organisations.begin(), t.organisations.end(),
                       [&](const OrganisationRow& x) { return x.name == o.name && x.id != o.id; });
  }
  Result<std::int64_t> create(const OrganisationRow& o) override {
    OrganisationRow row = o;
    row.id = 0;
    if (name_taken(row))
      return make_error(Errc::conflict, "organisation \"" + o.name + "\" already exists");
    row.id = t.next_id++;
    t.organisations.push_back(row);
    return row.id;
  }
  Result<void> update(const OrganisationRow& o) override {
    if (name_taken(o))
      return make_error(Errc::conflict, "organisation \"" + o.name + "\" already exists");
    for (auto& x : t.organisations) {
      if (x.id != o.id) continue;
      x.name = o.name;
      x.contact = o.contact;
      x.kind = o.kind;
      return {};
    }
    return missing("no organisation " + std::to_string(o.id));
  }
  Result<std::vector<OrganisationRow>> list() override {
    auto out = t.organisations;
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }
  Result<std::optional<OrganisationRow>> find(std::int64_t id) override {
    return first_of(t.organisations, [&](const OrganisationRow& o) { return o.id == id; });
  }
};

struct Handovers final : HandoverRepository {
  FakeTables& t;
  explicit Handovers(FakeTables& d) : t(d) {}
  Result<std::int64_t> create(const HandoverRow& h) override {
    HandoverRow row = h;
    row.id = t.next_id++;
    std::sort(row.devices.begin(), row.devices.end());
    t.handovers.push_back(row);
    return row.id;
  }
  Result<std::optional<HandoverRow>> find(std::int64_t id) override {
    return first_of(t.handovers, [&](const HandoverRow& h) { return h.id == id; });
  }
  Result<std::vector<HandoverRow>> list() override {
    return std::vector<HandoverRow>(t.handovers.rbegin(), t.handovers.rend());
  }
  Result<std::optional<HandoverRow>> latest_for(std::int64_t device) override {
    return last_of(t.handovers, [&](const HandoverRow& h) {
      return std::find(h.devices.begin(), h.devices.end(), device) != h.devices.end();
    });
  }
  Result<std::int64_t> add_loan(const LoanRow& l) override {
    if (std::any_of(t.loans.begin(), t.loans.end(),
                    [&](const LoanRow& x) { return x.device_id == l.device_id && !x.returned_at; }))
      return make_error(Errc::conflict, "the laptop is lent already");
    LoanRow row = l;
    row.id = t.next_id++;
    t.loans.push_back(row);
    return row.id;
  }
  Result<std::vector<LoanRow>> loans_of(std::int64_t device) override {
    std::vector<LoanRow> out;
    for (const auto& l : t.loans)
      if (l.device_id == device) out.push_back(l);
    return out;
  }
  Result<void> mark_returned(std::int64_t id, Seconds at, const std::string& by) override {
    for (auto& l : t.loans) {
      if (l.id != id || l.returned_at) continue;
      l.returned_at = at;
      l.returned_by = by;
      return {};
    }
    return missing("no loan " + std::to_string(id) + " is out");
  }
  Result<std::int64_t> erase_references(Seconds before, std::int64_t batch) override {
    std::int64_t n = 0;
    for (auto& l : t.loans) {
      if (n == batch || !l.returned_at || *l.returned_at >= before || l.reference_erased) continue;
      l.reference.clear();
      l.reference_erased = true;
      ++n;
    }
    return n;
  }
};

class FakeUnitOfWork final : public UnitOfWork {
 public:
  FakeUnitOfWork(FakeStorage& s, int& depth) : s_(s), depth_(depth), outer_(depth == 0) {
    if (outer_) snapshot_ = s.data;
    ++depth_;
  }
  ~FakeUnitOfWork() override {
    --depth_;
    if (outer_ && !committed_) s_.data = std::move(snapshot_);
  }
  Result<void> commit() override {
    committed_ = true;
    if (outer_) ++s_.commits;
    return {};
  }

 private:
  FakeStorage& s_;
  int& depth_;
  bool outer_;
  bool committed_ = false;
  FakeTables snapshot_;
};

struct RecipientProfiles final : RecipientProfileRepository {
  FakeTables& t;
  explicit RecipientProfiles(FakeTables& d) : t(d) {}
  Result<std::int64_t> put(const std::string& name, const Json& fields, Seconds) override {
    for (auto& p : t.recipient_profiles) {
      if (p.name != name) continue;
      p.fields = fields;
      return p.id;
    }
    t.recipient_profiles.push_back({t.next_id++, name, fields});
    return t.recipient_profiles.back().id;
  }
  Result<std::vector<RecipientProfileRow>> list() override {
    auto out = t.recipient_profiles;
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return out;
  }
  Result<std::optional<RecipientProfileRow>> find(const std::string& name) override {
    return first_of(t.recipient_profiles, [&](const auto& p) { return p.name == name; });
  }
  Result<std::optional<RecipientProfileRow>> find(std::int64_t id) override {
    return first_of(t.recipient_profiles, [&](const auto& p) { return p.id == id; });
  }
  Result<std::vector<std::string>> batches_using(std::int64_t id) override {
    std::vector<std::string> out;
    for (const auto& b : t.batches) {
      if (b.profile_id == id) out.push_back(b.name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  Result<void> remove(std::int64_t id) override {
    auto users = batches_using(id);
    if (!users->empty()) return make_error(Errc::conflict, "used by batch " + users->front());
    auto n = std::erase_if(t.recipient_profiles, [&](const auto& p) { return p.id == id; });
    if (n == 0) return make_error(Errc::not_found, "no recipient profile " + std::to_string(id));
    return {};
  }
};

}  // namespace

struct FakeStorage::Repos {
  Settings settings;
  Workflows workflows;
  Batches batches;
  Devices devices;
  Runs runs;
  Certificates certificates;
  Events events;
  Operators operators;
  AgentTokens agent_tokens;
  BootTokens boot_tokens;
  Intakes intakes;
  Organisations organisations;
  Handovers handovers;
  RecipientProfiles recipient_profiles;
  Repos(FakeTables& t, FakeStorage& s)
      : settings(t),
        workflows(t),
        batches(t),
        devices(t, s),
        runs(t),
        certificates(t),
        events(t),
        operators(t),
        agent_tokens(t),
        boot_tokens(t),
        intakes(t),
        organisations(t),
        handovers(t),
        recipient_profiles(t) {}
};

FakeStorage::FakeStorage() : repos_(std::make_unique<Repos>(data, *this)) {}
FakeStorage::~FakeStorage() = default;

Result<std::unique_ptr<UnitOfWork>> FakeStorage::begin() {
  return std::unique_ptr<UnitOfWork>(std::make_unique<FakeUnitOfWork>(*this, depth_));
}
SettingsRepository& FakeStorage::settings() { return repos_->settings; }
WorkflowRepository& FakeStorage::workflows() { return repos_->workflows; }
BatchRepository& FakeStorage::batches() { return repos_->batches; }
DeviceRepository& FakeStorage::devices() { return repos_->devices; }
RunRepository& FakeStorage::runs() { return repos_->runs; }
CertificateRepository& FakeStorage::certificates() { return repos_->certificates; }
EventRepository& FakeStorage::events() { return repos_->events; }
OperatorRepository& FakeStorage::operators() { return repos_->operators; }
AgentTokenRepository& FakeStorage::agent_tokens() { return repos_->agent_tokens; }
BootTokenRepository& FakeStorage::boot_tokens() { return repos_->boot_tokens; }
IntakeRepository& FakeStorage::intakes() { return repos_->intakes; }
OrganisationRepository& FakeStorage::organisations() { return repos_->organisations; }
HandoverRepository& FakeStorage::handovers() { return repos_->handovers; }
RecipientProfileRepository& FakeStorage::recipient_profiles() { return repos_->recipient_profiles; }

std::vector<EventRow> FakeStorage::events_of(const std::string& kind) const {
  std::vector<EventRow> out;
  for (const auto& e : data.events) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

}  // namespace revive::server::test
