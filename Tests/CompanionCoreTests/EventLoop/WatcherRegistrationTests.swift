// When a loop registers the file cache's inotify descriptor with epoll, and what it does
// when epoll_ctl fails (ENOMEM or the per-user watch limit, which no test can reach without
// changing a system-wide setting): the loop used to retry and log on every turn.
@testable import CompanionCore
import Testing

@Suite struct WatcherRegistrationTests {
    let first = WatcherRegistration.Instance(fd: 9, instance: 1)
    let second = WatcherRegistration.Instance(fd: 9, instance: 2)

    @Test func aNewInstanceIsRegisteredOnceThenLeftAlone() {
        var registration = WatcherRegistration()
        var asked = registration.instanceToRegister(current: first, now: 0)
        #expect(asked == first)
        registration.succeeded(first)
        #expect(registration.registered == first)
        asked = registration.instanceToRegister(current: first, now: 1)
        #expect(asked == nil)
        // The cache started over with a new instance on the same descriptor number.
        asked = registration.instanceToRegister(current: second, now: 2)
        #expect(asked == second)
        #expect(registration.registered == nil)
        registration.succeeded(second)
        // No watcher at all (watch limit reached, TTL only): nothing to register.
        asked = registration.instanceToRegister(current: nil, now: 3)
        #expect(asked == nil)
        #expect(registration.registered == nil)
    }

    @Test func aFailedRegistrationIsReportedOnceAndRetriedEverySecondNotEveryTurn() {
        let oneSecond = WatcherRegistration.retryMs
        var registration = WatcherRegistration()
        var asked = registration.instanceToRegister(current: first, now: 0)
        #expect(asked == first)
        var logged = registration.failed(first, now: 0)
        #expect(logged)                            // the one line in the log
        #expect(registration.registered == nil)    // so every turn reads the watcher
        var retries = 0
        for turn in Int64(1)..<oneSecond where registration.instanceToRegister(current: first, now: turn) != nil {
            retries += 1
        }
        #expect(retries == 0)
        asked = registration.instanceToRegister(current: first, now: oneSecond)
        #expect(asked == first)
        logged = registration.failed(first, now: oneSecond)
        #expect(!logged)                           // not again for the same instance
        // A new instance is tried at once, and its failure is news.
        asked = registration.instanceToRegister(current: second, now: oneSecond + 1)
        #expect(asked == second)
        logged = registration.failed(second, now: oneSecond + 1)
        #expect(logged)
        // Once one works, a later failure is reported again.
        asked = registration.instanceToRegister(current: second, now: 3 * oneSecond)
        #expect(asked == second)
        registration.succeeded(second)
        #expect(registration.registered == second)
        asked = registration.instanceToRegister(current: first, now: 3 * oneSecond)
        #expect(asked == first)
        logged = registration.failed(first, now: 3 * oneSecond)
        #expect(logged)
    }
}
